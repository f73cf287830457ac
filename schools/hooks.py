"""Where higher layers subscribe to what happens in schools, so schools never imports them.

- `sitting_calendar`: a function (organiser) -> {school_unit_id: earliest upcoming sitting datetime}
  that the transfer uses to flag late changes. The exams app registers it in AppConfig.ready().
- `transfer_applied`: callbacks (organiser, run) called after a transfer run commits, e.g. to
  assign mandatory tests to students transferred later.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from provplattform.hooks import Hook

SittingCalendar = Callable[[object], dict[int, datetime.datetime]]

sitting_calendar: Hook[SittingCalendar] = Hook("sitting_calendar")
transfer_applied: Hook[Callable[[object, object], None]] = Hook("transfer_applied")


def register_sitting_calendar(provider: SittingCalendar) -> None:
    sitting_calendar.subscribe(provider)


def upcoming_sittings(organiser) -> dict[int, datetime.datetime]:
    """The earliest upcoming sitting per school unit, over every provider."""
    earliest: dict[int, datetime.datetime] = {}
    for found in sitting_calendar.notify(organiser):
        for unit_id, starts in found.items():
            if unit_id not in earliest or starts < earliest[unit_id]:
                earliest[unit_id] = starts
    return earliest


def on_transfer_applied(callback: Callable[[object, object], None]) -> None:
    transfer_applied.subscribe(callback)
