from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from delivery.extended_time import attempts_extended_time_changed
        from delivery.panels import todays_sittings_panel
        from exams import hooks as exam_hooks
        from schools.dashboard import register_panel
        from schools.navigation import register_menu_entry, register_platform_entry
        from schools.roles import Capability

        register_panel("delivery/_todays_sittings_panel.html", todays_sittings_panel, order=10)
        exam_hooks.on_adjustment_changed_on_day(attempts_extended_time_changed)

        register_menu_entry(
            label=_("Exam rooms"),
            url_name="proctor-sittings",
            capability=Capability.PROCTOR,
            takes_unit=False,
            order=30,
        )
        register_menu_entry(
            label=_("Connectivity"),
            url_name="it-page",
            capability=Capability.VIEW_CONNECTIVITY,
            order=40,
        )
        register_platform_entry(
            label=_("Service announcements"),
            url_name="status-announcements",
            allowed=lambda user: getattr(user, "is_platform_operator", False),
            order=30,
        )
