"""The sitting calendar the organiser's transfer asks to flag late changes (schools.hooks)."""

from __future__ import annotations

import datetime

from django.db.models import Min
from django.utils import timezone

from exams.models import Sitting, SittingStatus


def upcoming_sittings(organiser) -> dict[int, datetime.datetime]:
    """Earliest scheduled sitting still ahead, per school unit of `organiser`."""
    return dict(
        Sitting.objects.filter(
            school_unit__organiser=organiser,
            status=SittingStatus.SCHEDULED,
            starts_at__gte=timezone.now(),
        )
        .values("school_unit_id")
        .annotate(first=Min("starts_at"))
        .values_list("school_unit_id", "first")
    )
