from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from delivery.attempts import submit_subscribers
        from exams import hooks as exam_hooks
        from grading.panels import grading_panel
        from grading.scoring_services import on_attempt_submitted, on_item_key_corrected
        from schools.dashboard import register_panel
        from schools.navigation import register_menu_entry
        from schools.roles import Capability

        if on_attempt_submitted not in submit_subscribers:
            submit_subscribers.append(on_attempt_submitted)
        exam_hooks.on_item_key_corrected(on_item_key_corrected)
        register_panel("grading/_panel.html", grading_panel, order=30)
        register_menu_entry(
            label=_("Grading"),
            url_name="grading-overview",
            capability=Capability.PREPARE_GRADING,
            order=50,
        )
        register_menu_entry(
            label=_("My responses to assess"),
            url_name="grading-desk",
            capability=Capability.ASSESS,
            order=55,
        )
        register_menu_entry(
            label=_("Off-platform and paper results"),
            url_name="grading-entries",
            capability=Capability.PREPARE_GRADING,
            order=56,
        )
