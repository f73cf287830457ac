from django.urls import path

from results import api

U = "units/<uuid:unit>/results/"

urlpatterns: list = [
    path(U, api.ResultSetListView.as_view(), name="api-results"),
    path(f"{U}<uuid:result_set>/", api.ResultTableView.as_view(), name="api-results-table"),
]

from results import measures_api  # noqa: E402

urlpatterns += [
    path(f"{U}measures/", measures_api.MeasureListView.as_view(), name="api-results-measures"),
    path(
        f"{U}measures/<uuid:measure>/status/",
        measures_api.MeasureStatusView.as_view(),
        name="api-results-measure-status",
    ),
    path(
        f"{U}follow-up-answers/",
        measures_api.UnitFollowUpAnswerView.as_view(),
        name="api-results-follow-up-answer",
    ),
    path(
        "organisers/<uuid:organiser>/follow-up/",
        measures_api.OrganiserFollowUpListView.as_view(),
        name="api-results-follow-ups",
    ),
    path(
        "organisers/<uuid:organiser>/follow-up/<uuid:follow_up>/",
        measures_api.OrganiserFollowUpDetailView.as_view(),
        name="api-results-follow-up",
    ),
]
