"""The admin site: for platform operators only (and only where ADMIN_ENABLED switches it on)."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


class OperatorAdminSite(AdminSite):
    def has_permission(self, request) -> bool:
        user = request.user
        return bool(
            user.is_active and user.is_staff and getattr(user, "is_platform_operator", False)
        )


class OperatorAdminConfig(AdminConfig):
    """Django's admin with the site above (in INSTALLED_APPS instead of django.contrib.admin)."""

    default_site = "provplattform.admin_site.OperatorAdminSite"
