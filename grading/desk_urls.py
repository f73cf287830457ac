from django.urls import include, path

from grading import desk_views, second_marking_views

G = "units/<uuid:unit>/grading/"
D = f"{G}desk/"

urlpatterns: list = [
    path(D, desk_views.desk, name="grading-desk"),
    path(f"{D}print/", desk_views.desk_print, name="grading-desk-print"),
    path(f"{D}paper-points/", desk_views.desk_batch_entry, name="grading-desk-batch"),
    path(f"{D}<uuid:score>/", desk_views.desk_response, name="grading-desk-response"),
    path(f"{D}<uuid:score>/projector/", desk_views.desk_projector, name="grading-desk-projector"),
    path(f"{D}<uuid:score>/flag/", desk_views.desk_flag, name="grading-desk-flag"),
    path(f"{G}machine-scores/<uuid:score>/override/", desk_views.desk_override,
         name="grading-desk-override"),
    path(f"{G}second-marking/mine/", second_marking_views.second_desk, name="grading-second-desk"),
    path(f"{G}second-marking/mine/<uuid:marking>/", second_marking_views.second_response,
         name="grading-second-response"),
    path(f"{G}second-marking/", second_marking_views.second_marking,
         name="grading-second-marking"),
    path(f"{G}second-marking/<uuid:marking>/decide/", second_marking_views.second_marking_decide,
         name="grading-second-marking-decide"),
    path("", include("grading.entries_urls")),
]  # fmt: skip
