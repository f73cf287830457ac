from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from delivery import services as delivery_services
        from exams import hooks as exam_hooks
        from grading.scoring_services import on_attempt_submitted, on_item_key_corrected

        if on_attempt_submitted not in delivery_services.submit_subscribers:
            delivery_services.submit_subscribers.append(on_attempt_submitted)
        exam_hooks.on_item_key_corrected(on_item_key_corrected)
