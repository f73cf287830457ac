from django.apps import AppConfig


class ResultsConfig(AppConfig):
    name = "results"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from grading.hooks import on_scores_changed
        from results.services import on_scores_changed as recompute_on_commit

        on_scores_changed(recompute_on_commit)

        from django.utils.translation import gettext_lazy as _

        from schools.navigation import register_menu_entry
        from schools.roles import Capability

        register_menu_entry(
            label=_("Results"),
            url_name="results-overview",
            capability=Capability.VIEW_GROUP_RESULTS,
            order=40,
        )

        from results.panels import follow_up_panel
        from schools.dashboard import register_panel

        register_panel("results/_follow_up_panel.html", follow_up_panel, order=40)
