"""`{% announcement_banner %}`: the platform operator's current announcements, as a banner."""

from __future__ import annotations

from django import template

from delivery.announcement_services import announcements_current

register = template.Library()


@register.inclusion_tag("delivery/_announcement_banner.html")
def announcement_banner() -> dict:
    return {"announcements": announcements_current()}
