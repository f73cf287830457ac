"""The student's extended time changed on the day (exams.hooks.adjustment_changed_on_day): the
deadlines of their running attempts follow, audited, and the student and the proctors are told.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery import timer
from delivery.attempts import (
    apply_clock,
    attempt_extra_seconds,
    attempt_timing,
    attempts_for_update,
    clock_of,
)
from delivery.events import attempt_announce
from delivery.models import AttemptStatus
from exams.models import Subtest
from exams.preparation.common import ExamRefused
from provplattform.audit import AuditAction, audit_record
from schools.models import Person, SchoolUnit, User

# Least time a running attempt keeps when extended time is reduced on the day.
REDUCTION_MIN_REMAINING_S = 60


def attempts_extended_time_changed(
    *,
    actor: User | None,
    school_unit: SchoolUnit,
    person: Person,
    subtests: Iterable[Subtest],
    reason: str = "",
) -> int:
    """Recompute the deadline of the student's running attempts after an adjustment changed on
    the day (subscribed to exams.hooks). Returns how many attempts changed.

    Working and paused attempts get the extended time the adjustments now give; the student and
    the proctors are told the new deadline. A reduction is refused
    (exams.preparation.common.ExamRefused, so the whole adjustment change is rolled back) if it
    would leave the student less than REDUCTION_MIN_REMAINING_S from now. Attempts not yet
    started read the time when they start; submitted attempts are left as they are.
    """
    changed = 0
    with transaction.atomic():
        attempts = attempts_for_update().filter(
            person=person,
            sitting__school_unit=school_unit,
            sitting__subtest__in=list(subtests),
            status__in=AttemptStatus.OPEN,
        )
        now = timezone.now()
        for attempt in attempts:
            old = attempt.extended_seconds
            new = attempt_extra_seconds(attempt)
            if new == old:
                continue
            clock = timer.set_extended(clock_of(attempt), seconds=new)
            floor = now + datetime.timedelta(seconds=REDUCTION_MIN_REMAINING_S)
            deadline = clock.effective_deadline(now)  # an open attempt has started: never None
            if new < old and deadline is not None and deadline < floor:
                raise ExamRefused(
                    _(
                        "The student is sitting the test: less extended time would end it "
                        "within a minute. Give at least %(minutes)d minutes."
                    )
                    % {"minutes": _least_extended_minutes(clock, deadline=deadline, floor=floor)}
                )
            before = attempt_timing(attempt) | {"extended_seconds": old}
            apply_clock(attempt, clock)
            attempt.save()
            audit_record(
                actor=actor,
                action=AuditAction.ATTEMPT_EXTENDED_TIME_CHANGE,
                target=attempt,
                before=before,
                after=attempt_timing(attempt) | {"extended_seconds": new},
                reason=reason,
                scope=attempt.sitting.school_unit,
            )
            attempt_announce(attempt)
            changed += 1
    return changed


def _least_extended_minutes(
    clock: timer.Clock, *, deadline: datetime.datetime, floor: datetime.datetime
) -> int:
    """The fewest whole minutes of extended time that keep the attempt open past the floor."""
    missing = (floor - deadline).total_seconds()
    return math.ceil((clock.extended_seconds + missing) / 60)
