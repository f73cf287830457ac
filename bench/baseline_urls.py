from django.urls import path

from bench import baseline_app

urlpatterns = [
    path("api/v1/delivery/attempts/<str:attempt>/saves", baseline_app.save),
    path("health", baseline_app.health),
]
