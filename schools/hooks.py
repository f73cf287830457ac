"""Where higher layers subscribe to what happens in schools, so schools never imports them.

- `sitting_calendar`: a function (organiser) -> {school_unit_id: earliest upcoming sitting datetime}
  that the transfer uses to flag late changes. The exams app registers it in AppConfig.ready().
- `transfer_applied`: callbacks (organiser, run) called after a transfer run commits, e.g. to
  assign mandatory tests to students transferred later.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

SittingCalendar = Callable[[object], dict[int, datetime.datetime]]

_sitting_calendar: SittingCalendar | None = None
transfer_applied: list[Callable[[object, object], None]] = []


def register_sitting_calendar(provider: SittingCalendar) -> None:
    global _sitting_calendar
    _sitting_calendar = provider


def upcoming_sittings(organiser) -> dict[int, datetime.datetime]:
    return _sitting_calendar(organiser) if _sitting_calendar else {}


def on_transfer_applied(callback: Callable[[object, object], None]) -> None:
    if callback not in transfer_applied:
        transfer_applied.append(callback)
