from django.urls import path

from grading import desk_api

U = "units/<uuid:unit>/"

urlpatterns: list = [
    path(f"{U}desk/scores/", desk_api.DeskScoreListView.as_view(), name="api-desk-scores"),
    path(f"{U}desk/scores/<uuid:score>/", desk_api.DeskScoreView.as_view(), name="api-desk-score"),
    path(f"{U}desk/scores/<uuid:score>/flag/", desk_api.DeskScoreFlagView.as_view(),
         name="api-desk-score-flag"),
    path(f"{U}machine-scores/<uuid:score>/override/", desk_api.MachineScoreOverrideView.as_view(),
         name="api-desk-machine-score-override"),
]  # fmt: skip
