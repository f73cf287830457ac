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

from results import job_views  # noqa: E402

urlpatterns += [
    path(f"{R}groups/<uuid:group>/letters/", job_views.group_letters, name="results-letters"),
    path(f"{R}exports/", job_views.export_start, name="results-export-start"),
    path(f"{P}jobs/<uuid:job>/", job_views.job_detail, name="results-job"),
    path(f"{P}jobs/<uuid:job>/download/", job_views.job_download, name="results-job-download"),
    path(f"{P}follow-up-answers/", job_views.follow_up_answer, name="results-follow-up-answer"),
    path(f"{R}recompute/", job_views.recompute, name="results-recompute"),
    path(
        f"{R}students/<uuid:person>/measures/",
        job_views.student_measure_add,
        name="results-student-measure",
    ),
]

from results import follow_up_views  # noqa: E402

urlpatterns += [
    path("follow-up/", follow_up_views.follow_up_requests, name="results-follow-up-requests"),
    path(
        "follow-up/<uuid:public_id>/",
        follow_up_views.follow_up_request_detail,
        name="results-follow-up-request",
    ),
]
