from django.urls import path

from results import views

P = "units/<uuid:unit>/results/"
R = f"{P}<uuid:result_set>/"

urlpatterns: list = [
    path(P, views.overview, name="results-overview"),
    path(R, views.unit_results, name="results-unit"),
    path(f"{R}groups/<uuid:group>/", views.group_results, name="results-group"),
    path(f"{R}students/<uuid:person>/", views.student_results, name="results-student"),
    path(f"{R}export.csv", views.export_csv, name="results-export-csv"),
    path(f"{R}export.xlsx", views.export_xlsx, name="results-export-xlsx"),
]
