from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and the embedded server command; sits above every domain app."""

    name = "demo"
