from django.apps import AppConfig


class ProvplattformConfig(AppConfig):
    name = "provplattform"
    verbose_name = "Provplattform"
    default_auto_field = "django.db.models.BigAutoField"
