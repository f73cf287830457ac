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

        from django.utils.translation import gettext_lazy as _

        from schools.navigation import register_menu_entry, register_platform_entry
        from schools.roles import Capability
        from schools.transfer.selectors import is_organiser_admin

        def organiser_admin(user) -> bool:
            # Asked by two menu entries on every page: one query per request.
            if not hasattr(user, "_menu_is_organiser_admin"):
                user._menu_is_organiser_admin = is_organiser_admin(user)
            return user._menu_is_organiser_admin

        # Every page of a unit leads back to its overview; anyone who sees the unit may open it.
        register_menu_entry(
            label=_("Overview"), url_name="unit-dashboard", capability=None, order=0
        )
        register_menu_entry(
            label=_("Staff and roles"),
            url_name="unit-staff",
            capability=Capability.VIEW_STAFF,
            order=5,
        )
        register_menu_entry(
            label=_("Teaching groups"),
            url_name="unit-groups",
            capability=Capability.VIEW_STUDENTS,
            order=6,
        )
        register_menu_entry(
            label=_("Students"),
            url_name="unit-students",
            capability=Capability.VIEW_STUDENTS,
            order=7,
        )
        register_platform_entry(
            label=_("Transfers"), url_name="transfer-runs", allowed=organiser_admin, order=10
        )
        register_platform_entry(
            label=_("API tokens"), url_name="transfer-tokens", allowed=organiser_admin, order=11
        )
