from django.urls import path

from grading import views

P = "units/<uuid:unit>/grading/"
S = f"{P}<uuid:subtest>/"

urlpatterns: list = [
    path(P, views.overview, name="grading-overview"),
    path(S, views.subtest_page, name="grading-subtest"),
    path(f"{S}distribution/", views.distribution, name="grading-distribution"),
    path(f"{S}due-date/", views.due_date, name="grading-due-date"),
    path(f"{S}unassessed/", views.unassessed, name="grading-unassessed"),
]
