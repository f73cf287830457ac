from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "schools"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from schools.auth import on_logged_in, on_login_failed

        # Per-account login throttling for every path through authenticate() (schools.auth).
        user_login_failed.connect(on_login_failed, dispatch_uid="schools.login_failed")
        user_logged_in.connect(on_logged_in, dispatch_uid="schools.logged_in")
