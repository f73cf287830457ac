"""Driftinformation: the platform operator's announcements (posted, resolved, read)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from delivery.models import Announcement
from provplattform.audit import AuditAction, audit_record

if TYPE_CHECKING:
    from schools.models import User


def _require_operator(actor: User) -> None:
    if not getattr(actor, "is_authenticated", False) or not getattr(
        actor, "is_platform_operator", False
    ):
        raise PermissionDenied("Only the platform operator posts announcements.")


def announcement_post(
    *,
    actor: User,
    title: str,
    body: str = "",
    severity: str = Announcement.Severity.INFO,
    visible_until: datetime.datetime | None = None,
) -> Announcement:
    """Post an announcement, visible at once on the status page and as a banner."""
    _require_operator(actor)
    with transaction.atomic():
        announcement = Announcement.objects.create(
            title=title.strip()[:200],
            body=body.strip(),
            severity=severity,
            visible_from=timezone.now(),
            visible_until=visible_until,
            posted_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.ANNOUNCEMENT_POST,
            target=announcement,
            after={"title": announcement.title, "severity": severity},
        )
    return announcement


def announcement_resolve(*, actor: User, announcement: Announcement) -> Announcement:
    """Mark resolved: it stays on the status page for a day, the banner disappears."""
    _require_operator(actor)
    with transaction.atomic():
        before = {"severity": announcement.severity}
        announcement.severity = Announcement.Severity.RESOLVED
        announcement.visible_until = timezone.now() + datetime.timedelta(days=1)
        announcement.save(update_fields=["severity", "visible_until", "modified"])
        audit_record(
            actor=actor,
            action=AuditAction.ANNOUNCEMENT_RESOLVE,
            target=announcement,
            before=before,
            after={"severity": announcement.severity},
        )
    return announcement


def announcements_visible(*, now: datetime.datetime | None = None) -> QuerySet:
    now = now or timezone.now()
    return (
        Announcement.objects.filter(visible_from__lte=now)
        .filter(Q(visible_until__isnull=True) | Q(visible_until__gt=now))
        .order_by("-visible_from")
    )


def announcements_current() -> list[Announcement]:
    """What the banner shows: visible and not yet resolved."""
    return list(announcements_visible().exclude(severity=Announcement.Severity.RESOLVED)[:5])
