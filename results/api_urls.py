from django.urls import path

from results import api

U = "units/<uuid:unit>/results/"

urlpatterns: list = [
    path(U, api.ResultSetListView.as_view(), name="api-results"),
    path(f"{U}<uuid:result_set>/", api.ResultTableView.as_view(), name="api-results-table"),
]
