from django.urls import path

from delivery import api, save_api

U = "units/<uuid:unit>/"

urlpatterns: list = [
    path(
        "delivery/attempts/<uuid:attempt>/saves",
        save_api.save_view,
        name="delivery-attempt-saves",
    ),
    path(
        f"{U}sittings/<uuid:sitting>/attempts/<uuid:attempt>/submit/",
        api.AttemptSubmitView.as_view(),
        name="api-delivery-attempt-submit",
    ),
    path(
        f"{U}sittings/<uuid:sitting>/end/",
        api.SittingEndView.as_view(),
        name="api-delivery-sitting-end",
    ),
]
