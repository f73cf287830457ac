"""Deadline arithmetic for an attempt: pure functions, no database.

The deadline is always started_at + duration + extended + added + paused time. Every operation
here only ever adds time, so a deadline never moves earlier: no attempt ends early. The one
exception is `set_extended`, an administrator's audited change of extended time on the day; the
service that calls it refuses a reduction that would leave the student less than a minute.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

SECOND = datetime.timedelta(seconds=1)


@dataclass(frozen=True)
class Clock:
    """The timing fields of an attempt."""

    started_at: datetime.datetime | None = None
    duration_seconds: int = 0
    extended_seconds: int = 0
    added_seconds: int = 0
    paused_seconds: int = 0
    paused_at: datetime.datetime | None = None

    @property
    def deadline(self) -> datetime.datetime | None:
        """The stored deadline; while paused it is the deadline as of the moment of pausing."""
        if self.started_at is None:
            return None
        total = (
            self.duration_seconds + self.extended_seconds + self.added_seconds + self.paused_seconds
        )
        return self.started_at + datetime.timedelta(seconds=total)

    def effective_deadline(self, now: datetime.datetime) -> datetime.datetime | None:
        """The deadline counting a pause still running (the clock is stopped while paused)."""
        deadline = self.deadline
        if deadline is None or self.paused_at is None:
            return deadline
        return deadline + max(now - self.paused_at, datetime.timedelta(0))

    def remaining_seconds(self, now: datetime.datetime) -> int | None:
        deadline = self.effective_deadline(now)
        if deadline is None:
            return None
        return max(0, int((deadline - now).total_seconds()))


def start(
    clock: Clock, *, now: datetime.datetime, duration_seconds: int, extended_seconds: int
) -> Clock:
    if clock.started_at is not None:
        return clock
    return replace(
        clock, started_at=now, duration_seconds=duration_seconds, extended_seconds=extended_seconds
    )


def pause(clock: Clock, *, now: datetime.datetime) -> Clock:
    if clock.paused_at is not None:
        return clock
    return replace(clock, paused_at=now)


def resume(clock: Clock, *, now: datetime.datetime) -> Clock:
    """Credit the pause, rounded up to whole seconds so the student never loses a fraction."""
    if clock.paused_at is None:
        return clock
    return replace(
        clock,
        paused_seconds=clock.paused_seconds + _whole_seconds_up(now - clock.paused_at),
        paused_at=None,
    )


def add_time(clock: Clock, *, seconds: int) -> Clock:
    if seconds <= 0:
        raise ValueError("Only positive time can be added.")
    return replace(clock, added_seconds=clock.added_seconds + seconds)


def set_extended(clock: Clock, *, seconds: int) -> Clock:
    """Replace the extended time (an adjustment changed on the day)."""
    if seconds < 0:
        raise ValueError("Extended time cannot be negative.")
    return replace(clock, extended_seconds=seconds)


def credit_since(clock: Clock, *, since: datetime.datetime, now: datetime.datetime) -> Clock:
    """Credit the time between `since` and `now`, as if the attempt had been paused then.

    Used when a submitted attempt is reopened: the student gets back the time left at submission.
    """
    return replace(clock, paused_seconds=clock.paused_seconds + _whole_seconds_up(now - since))


def reopen(
    clock: Clock, *, since: datetime.datetime, now: datetime.datetime, add_seconds: int = 0
) -> Clock:
    """Reopen a submitted attempt: credit the time since the submit, then add `add_seconds`.

    Added time counts from the later of the credited deadline and now: a test whose time had run
    out (an automatic submit comes at deadline + grace) gets the gap to now as added time too, so
    the student has `add_seconds` of usable time from now and the deadline is in the future.
    """
    clock = credit_since(clock, since=since, now=now)
    if add_seconds < 0:
        raise ValueError("Only positive time can be added.")
    if add_seconds == 0:
        return clock
    deadline = clock.deadline
    gap = _whole_seconds_up(now - deadline) if deadline is not None and deadline < now else 0
    return replace(clock, added_seconds=clock.added_seconds + gap + add_seconds)


def _whole_seconds_up(delta: datetime.timedelta) -> int:
    micro = max(delta // datetime.timedelta(microseconds=1), 0)
    return -(-micro // 1_000_000)


def is_due(clock: Clock, *, now: datetime.datetime, grace_seconds: int) -> bool:
    """Automatic submit only at or after deadline + grace, and never while paused."""
    deadline = clock.deadline
    if deadline is None or clock.paused_at is not None:
        return False
    return now >= deadline + datetime.timedelta(seconds=grace_seconds)


def save_verdict(
    clock: Clock,
    *,
    now: datetime.datetime,
    client_saved_at: datetime.datetime | None,
    grace_seconds: int,
) -> tuple[bool, bool]:
    """(accepted, late) for a save of a working or paused attempt.

    The late-delivery rule: before the deadline everything is accepted. After it, a save whose
    client timestamp is at or before the deadline and which arrives within the grace window is
    accepted and marked late; anything else is refused. While paused the clock stands still.
    """
    if clock.paused_at is not None:
        return True, False
    deadline = clock.deadline
    if deadline is None:
        return False, False
    if now <= deadline:
        return True, False
    if (
        client_saved_at is not None
        and client_saved_at <= deadline
        and now <= deadline + datetime.timedelta(seconds=grace_seconds)
    ):
        return True, True
    return False, False
