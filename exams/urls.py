from django.urls import include, path

from exams import views

P = "units/<uuid:unit>/prepare/"

urlpatterns: list = [
    path(P, views.prepare, name="exams-prepare"),
    path(f"{P}rooms/", views.rooms, name="exams-rooms"),
    path(f"{P}rooms/<uuid:room>/delete/", views.room_delete, name="exams-room-delete"),
    path(f"{P}registrations/", views.registrations, name="exams-registrations"),
    path(f"{P}assignments/", views.assignments, name="exams-assignments"),
    path(
        f"{P}assignments/<uuid:assignment>/correct/",
        views.assignment_correct,
        name="exams-assignment-correct",
    ),
    path(f"{P}sittings/", views.sittings, name="exams-sittings"),
    path(f"{P}sittings/<uuid:sitting>/", views.sitting_detail, name="exams-sitting"),
    path(f"{P}day-password/", views.day_password, name="exams-day-password"),
    path(f"{P}adjustments/", views.adjustments, name="exams-adjustments"),
    path(
        f"{P}adjustments/<uuid:adjustment>/remove/",
        views.adjustment_remove,
        name="exams-adjustment-remove",
    ),
    path(f"{P}exemptions/", views.exemptions, name="exams-exemptions"),
    path(
        f"{P}exemptions/<uuid:exemption>/remove/",
        views.exemption_remove,
        name="exams-exemption-remove",
    ),
    path(f"{P}still-to-sit/", views.still_to_sit, name="exams-still-to-sit"),
    path(f"{P}readiness/", views.readiness_page, name="exams-readiness"),
    path(
        f"{P}readiness/print/",
        views.readiness_page,
        {"printable": True},
        name="exams-readiness-print",
    ),
    path("", include("exams.definitions.urls")),
]
