from django.urls import path

from delivery import save_api

urlpatterns: list = [
    path(
        "delivery/attempts/<uuid:attempt>/saves",
        save_api.save_view,
        name="delivery-attempt-saves",
    ),
]
