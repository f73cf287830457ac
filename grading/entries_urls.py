from django.urls import path

from grading import entries_views

E = "units/<uuid:unit>/grading/entries/"

urlpatterns: list = [
    path(E, entries_views.entries, name="grading-entries"),
    path(f"{E}<uuid:group>/form.xlsx", entries_views.entries_form, name="grading-entries-form"),
    path(f"{E}<uuid:group>/upload/", entries_views.entries_upload, name="grading-entries-upload"),
    path(f"{E}uploads/<uuid:entry_import>/", entries_views.entry_import,
         name="grading-entry-import"),
]  # fmt: skip
