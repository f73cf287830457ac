from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "exams"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from exams.calendar_hooks import upcoming_sittings
        from schools import hooks

        hooks.register_sitting_calendar(upcoming_sittings)

        from exams.preparation.assignments import on_transfer_applied
        from exams.readiness import dashboard_panel_context
        from schools.dashboard import register_panel

        hooks.on_transfer_applied(on_transfer_applied)
        register_panel("exams/_readiness_panel.html", dashboard_panel_context, order=20)

        from exams.catch_up import dashboard_panel_context as still_to_sit_panel

        register_panel("exams/_still_to_sit_panel.html", still_to_sit_panel, order=25)

        from django.utils.translation import gettext_lazy as _

        from schools.navigation import register_menu_entry, register_platform_entry
        from schools.roles import Capability

        register_menu_entry(
            label=_("Prepare tests"),
            url_name="exams-prepare",
            capability=Capability.ADMINISTER_TESTS,
            order=20,
        )
        register_platform_entry(
            label=_("Test definitions"),
            url_name="exams-operator-tests",
            allowed=lambda user: getattr(user, "is_platform_operator", False),
            order=20,
        )
