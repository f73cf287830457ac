from django.urls import include, path

from schools import views

urlpatterns: list = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", views.PasswordResetSentView.as_view(), name="password-reset-sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path("units/", views.unit_picker, name="unit-picker"),
    path("units/<uuid:unit>/", views.unit_dashboard, name="unit-dashboard"),
    path("units/<uuid:unit>/staff/", views.unit_staff, name="unit-staff"),
    path("units/<uuid:unit>/staff/assign/", views.unit_role_assign, name="unit-role-assign"),
    path("units/<uuid:unit>/staff/remove/", views.unit_role_remove, name="unit-role-remove"),
    path("units/<uuid:unit>/groups/", views.unit_groups, name="unit-groups"),
    path("units/<uuid:unit>/students/", views.unit_students, name="unit-students"),
    path("", include("schools.transfer_urls")),
]
