from django.urls import path

from grading import desk_api, entries_api, second_marking_api

U = "units/<uuid:unit>/"

urlpatterns: list = [
    path(f"{U}desk/scores/", desk_api.DeskScoreListView.as_view(), name="api-desk-scores"),
    path(f"{U}desk/scores/<uuid:score>/", desk_api.DeskScoreView.as_view(), name="api-desk-score"),
    path(f"{U}desk/scores/<uuid:score>/flag/", desk_api.DeskScoreFlagView.as_view(),
         name="api-desk-score-flag"),
    path(f"{U}machine-scores/<uuid:score>/override/", desk_api.MachineScoreOverrideView.as_view(),
         name="api-desk-machine-score-override"),
    path(f"{U}desk/second-markings/", second_marking_api.MySecondMarkingsView.as_view(),
         name="api-desk-second-markings"),
    path(f"{U}desk/second-markings/<uuid:marking>/",
         second_marking_api.MySecondMarkingView.as_view(), name="api-desk-second-marking"),
    path(f"{U}second-markings/", second_marking_api.SampleView.as_view(),
         name="api-second-markings"),
    path(f"{U}second-markings/agreement/", second_marking_api.AgreementView.as_view(),
         name="api-second-markings-agreement"),
    path(f"{U}second-markings/<uuid:marking>/decide/", second_marking_api.DecideView.as_view(),
         name="api-second-marking-decide"),
    path(f"{U}entries/", entries_api.EntrySheetView.as_view(), name="api-entries"),
    path(f"{U}entries/uploads/", entries_api.EntryImportsView.as_view(),
         name="api-entry-uploads"),
    path(f"{U}entries/uploads/<uuid:entry_import>/apply/",
         entries_api.EntryImportApplyView.as_view(), name="api-entry-upload-apply"),
]  # fmt: skip
