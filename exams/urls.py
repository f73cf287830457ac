from django.urls import include, path

from exams.views import assignments, day_passwords, decisions, readiness, rooms, sittings

P = "units/<uuid:unit>/prepare/"

urlpatterns: list = [
    path(P, readiness.prepare, name="exams-prepare"),
    path(f"{P}rooms/", rooms.rooms, name="exams-rooms"),
    path(f"{P}rooms/<uuid:room>/delete/", rooms.room_delete, name="exams-room-delete"),
    path(f"{P}registrations/", assignments.registrations, name="exams-registrations"),
    path(f"{P}assignments/", assignments.assignments, name="exams-assignments"),
    path(
        f"{P}assignments/<uuid:assignment>/correct/",
        assignments.assignment_correct,
        name="exams-assignment-correct",
    ),
    path(f"{P}sittings/", sittings.sittings, name="exams-sittings"),
    path(f"{P}sittings/<uuid:sitting>/", sittings.sitting_detail, name="exams-sitting"),
    path(f"{P}day-password/", day_passwords.day_password, name="exams-day-password"),
    path(f"{P}adjustments/", decisions.adjustments, name="exams-adjustments"),
    path(
        f"{P}adjustments/<uuid:adjustment>/remove/",
        decisions.adjustment_remove,
        name="exams-adjustment-remove",
    ),
    path(f"{P}exemptions/", decisions.exemptions, name="exams-exemptions"),
    path(
        f"{P}exemptions/<uuid:exemption>/remove/",
        decisions.exemption_remove,
        name="exams-exemption-remove",
    ),
    path(f"{P}still-to-sit/", sittings.still_to_sit, name="exams-still-to-sit"),
    path(f"{P}readiness/", readiness.readiness_page, name="exams-readiness"),
    path(
        f"{P}readiness/print/",
        readiness.readiness_page,
        {"printable": True},
        name="exams-readiness-print",
    ),
    path("", include("exams.definitions.urls")),
]
