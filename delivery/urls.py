from django.urls import path

from delivery import it_views, proctor_views, status_views, student_views

urlpatterns: list = [
    path("student/", student_views.login_view, name="student-login"),
    path("student/logout/", student_views.logout_view, name="student-logout"),
    path("student/wait/", student_views.wait_view, name="student-wait"),
    path("student/state/", student_views.state_view, name="student-state"),
    path("student/test/", student_views.test_view, name="student-test"),
    path("student/submit/", student_views.submit_view, name="student-submit"),
    path("student/done/", student_views.done_view, name="student-done"),
    path("student/headphones/", student_views.headphones_view, name="student-headphones"),
    path(
        "student/audio/<uuid:item>/play/",
        student_views.audio_play_view,
        name="student-audio-play",
    ),
    path(
        "sittings/<uuid:sitting>/login-slips/",
        student_views.login_slips_view,
        name="sitting-login-slips",
    ),
    # proctor room, IT page, service status (delivery.proctor_views, it_views, status_views)
    path("proctor/", proctor_views.proctor_sittings, name="proctor-sittings"),
    path("proctor/sittings/<uuid:sitting>/", proctor_views.proctor_room, name="proctor-room"),
    path(
        "proctor/sittings/<uuid:sitting>/state/",
        proctor_views.proctor_state,
        name="proctor-state",
    ),
    path(
        "proctor/sittings/<uuid:sitting>/actions/<str:action>/",
        proctor_views.proctor_action,
        name="proctor-action",
    ),
    path("it/", it_views.it_units, name="it-units"),
    path("it/<uuid:unit>/", it_views.it_page, name="it-page"),
    path("it/<uuid:unit>/rooms/", it_views.it_rooms, name="it-rooms"),
    path("it/<uuid:unit>/notices/", it_views.it_notices, name="it-notices"),
    path("status/", status_views.status_page, name="status"),
    path("healthz", status_views.healthz, name="healthz"),
    path("status/announcements/", status_views.announcements_manage, name="status-announcements"),
    path(
        "status/announcements/<uuid:announcement>/resolve/",
        status_views.announcement_resolve,
        name="status-announcement-resolve",
    ),
]
