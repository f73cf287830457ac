from django.urls import path

from grading import api

U = "units/<uuid:unit>/grading/"
S = f"{U}subtests/<uuid:subtest>/"

urlpatterns: list = [
    path(f"{U}subtests/", api.SubtestListView.as_view(), name="api-grading-subtests"),
    path(f"{U}assessors/", api.AssessorListView.as_view(), name="api-grading-assessors"),
    path(S, api.SubtestDetailView.as_view(), name="api-grading-subtest"),
    path(f"{S}preview/", api.PreviewView.as_view(), name="api-grading-preview"),
    path(f"{S}distribution/", api.DistributionView.as_view(), name="api-grading-distribution"),
    path(
        f"{S}redistribution/",
        api.RedistributionView.as_view(),
        name="api-grading-redistribution",
    ),
    path(f"{S}unassessed/", api.UnassessedView.as_view(), name="api-grading-unassessed"),
    path(f"{S}due-date/", api.DueDateView.as_view(), name="api-grading-due-date"),
]
