"""Where higher layers subscribe to what happens in exams, so exams never imports them.

- `adjustment_changed_on_day`: callbacks called when an administrator changes (or adds) an
  adjustment for a student who has already started a subtest it covers. Each is called as
  `callback(actor=..., school_unit=..., person=..., subtests=[...], reason=...)` inside the
  change's transaction, after the adjustment is saved: the delivery app recomputes the deadline
  of a running attempt. A callback may raise `exams.preparation.common.ExamRefused` to refuse
  the change; the whole change is then rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from provplattform.hooks import Hook

if TYPE_CHECKING:
    from schools.models import User

# A subscriber's return value is not used (delivery's says how many attempts changed).
adjustment_changed_on_day: Hook[Callable[..., object]] = Hook("adjustment_changed_on_day")


def on_adjustment_changed_on_day(callback: Callable[..., object]) -> None:
    adjustment_changed_on_day.subscribe(callback)


def adjustment_changed_on_day_notify(
    *, actor: User, school_unit, person, subtests, reason: str
) -> None:
    adjustment_changed_on_day.notify(
        actor=actor, school_unit=school_unit, person=person, subtests=list(subtests), reason=reason
    )


# `item_key_corrected`: callbacks called when the platform operator corrects the answer key or
# the points of an item students have already sat, as
# `callback(actor=..., item=..., before={...}, reason=...)` inside the correction's transaction,
# after the item is saved: the grading app rescores every machine score of the item.
item_key_corrected: Hook[Callable[..., None]] = Hook("item_key_corrected")


def on_item_key_corrected(callback: Callable[..., None]) -> None:
    item_key_corrected.subscribe(callback)


def item_key_corrected_notify(*, actor: User, item, before: dict, reason: str) -> None:
    item_key_corrected.notify(actor=actor, item=item, before=before, reason=reason)
