"""The report of an applied run: counts per record kind, and late-data flags."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings

from schools import hooks
from schools.models import SchoolUnit
from schools.transfer.state import RunState


def late_flags(run: RunState, *, first_transfer: bool) -> list[dict[str, Any]]:
    """Late data is flagged, never refused: per school unit with an upcoming sitting."""
    sittings = hooks.upcoming_sittings(run.organiser)
    if not sittings:
        return []
    limit_days = (
        settings.TRANSFER_FIRST_MIN_DAYS if first_transfer else settings.TRANSFER_UPDATE_MIN_DAYS
    )
    # school unit id -> (external id, name)
    units = {row.id: (ext, row.name) for ext, row in run.snap.units.items()}
    if len(units) < len(sittings) or run.counts["school_units"].created:
        units = {
            uid: (ext, name)
            for uid, ext, name in SchoolUnit.objects.filter(organiser=run.organiser).values_list(
                "id", "external_id", "name"
            )
        }
    result: list[dict[str, Any]] = []
    for unit_id, starts_at in sorted(sittings.items(), key=lambda item: item[1]):
        if unit_id not in units:
            continue
        if not first_transfer and unit_id not in run.changed_units:
            continue
        if starts_at - run.now >= datetime.timedelta(days=limit_days):
            continue
        days = max((starts_at - run.now).days, 0)
        ext, name = units[unit_id]
        result.append(
            {
                "code": "first_transfer_late" if first_transfer else "late_change",
                "school_unit": ext,
                "school_unit_name": name,
                "sitting_at": starts_at.isoformat(),
                "days_before": days,
                "limit_days": limit_days,
            }
        )
    return result


def counts_report(run: RunState) -> dict[str, dict[str, int]]:
    return {k: c.as_dict() for k, c in run.counts.items()}
