from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from schools.navigation import register_menu_entry
        from schools.roles import Capability

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
