from django.urls import path

from exams.api import assignments, day_passwords, decisions, readiness, rooms, sittings
from exams.definitions import api as definition_api

U = "units/<uuid:unit>/"

urlpatterns: list = [
    path(f"{U}rooms/", rooms.RoomListView.as_view(), name="api-exams-rooms"),
    path(f"{U}rooms/<uuid:room>/", rooms.RoomDetailView.as_view(), name="api-exams-room"),
    path(
        f"{U}registrations/",
        assignments.RegistrationListView.as_view(),
        name="api-exams-registrations",
    ),
    path(
        f"{U}assignments/", assignments.AssignmentListView.as_view(), name="api-exams-assignments"
    ),
    path(
        f"{U}assignments/<uuid:assignment>/correct/",
        assignments.AssignmentCorrectView.as_view(),
        name="api-exams-assignment-correct",
    ),
    path(f"{U}sittings/", sittings.SittingListView.as_view(), name="api-exams-sittings"),
    path(
        f"{U}sittings/<uuid:sitting>/",
        sittings.SittingDetailView.as_view(),
        name="api-exams-sitting",
    ),
    path(
        f"{U}sittings/<uuid:sitting>/students/",
        sittings.SittingStudentsView.as_view(),
        name="api-exams-sitting-students",
    ),
    path(
        f"{U}sittings/<uuid:sitting>/students/<uuid:student>/",
        sittings.SittingStudentView.as_view(),
        name="api-exams-sitting-student",
    ),
    path(
        f"{U}sittings/<uuid:sitting>/proctors/",
        sittings.SittingProctorsView.as_view(),
        name="api-exams-sitting-proctors",
    ),
    path(
        f"{U}sittings/<uuid:sitting>/proctors/<uuid:person>/",
        sittings.SittingProctorView.as_view(),
        name="api-exams-sitting-proctor",
    ),
    path(
        f"{U}sittings/<uuid:sitting>/postpone/",
        sittings.SittingPostponeView.as_view(),
        name="api-exams-sitting-postpone",
    ),
    path(
        f"{U}sittings/<uuid:sitting>/paper-replacements/",
        sittings.PaperReplacementView.as_view(),
        name="api-exams-paper-replacements",
    ),
    path(
        f"{U}day-password/", day_passwords.DayPasswordView.as_view(), name="api-exams-day-password"
    ),
    path(f"{U}adjustments/", decisions.AdjustmentListView.as_view(), name="api-exams-adjustments"),
    path(
        f"{U}adjustments/<uuid:adjustment>/",
        decisions.AdjustmentDetailView.as_view(),
        name="api-exams-adjustment",
    ),
    path(f"{U}exemptions/", decisions.ExemptionListView.as_view(), name="api-exams-exemptions"),
    path(
        f"{U}exemptions/<uuid:exemption>/",
        decisions.ExemptionDetailView.as_view(),
        name="api-exams-exemption",
    ),
    path(f"{U}readiness/", readiness.ReadinessView.as_view(), name="api-exams-readiness"),
    path(f"{U}still-to-sit/", sittings.StillToSitView.as_view(), name="api-exams-still-to-sit"),
    path(
        f"{U}readiness/acknowledge/",
        readiness.AcknowledgeView.as_view(),
        name="api-exams-readiness-acknowledge",
    ),
    path("definitions/", definition_api.DefinitionListView.as_view(), name="api-definitions"),
    path(
        "definitions/<uuid:test>/",
        definition_api.DefinitionDetailView.as_view(),
        name="api-definition",
    ),
    path(
        "definitions/<uuid:test>/publish/",
        definition_api.DefinitionPublishView.as_view(),
        name="api-definition-publish",
    ),
    path(
        "definitions/<uuid:test>/retire/",
        definition_api.DefinitionRetireView.as_view(),
        name="api-definition-retire",
    ),
    path(
        "definitions/<uuid:test>/new-version/",
        definition_api.DefinitionNewVersionView.as_view(),
        name="api-definition-new-version",
    ),
]
