"""The attempt's state machine: release, start, pause, resume, time added, the one submit, reopen
and absent, by the student and by the proctor.

Every service runs in one transaction, writes an audit row where a student's situation changes,
and sends its live event after commit (delivery.events). Times come from the server's clock. Ending
attempts the student did not submit (deadline, closing time, the sitting's end) is in
delivery.closing; the device login in delivery.devices; the saves in delivery.saves.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery import timer
from delivery.events import attempt_announce
from delivery.models import Attempt, AttemptStatus
from exams.day_passwords import unit_zone
from exams.definitions.services import subtest_freeze
from exams.models import Sitting, SittingStatus, SittingStudent
from exams.preparation.decisions import adjustments_lock
from exams.preparation.rules import extra_seconds_for
from provplattform.audit import AuditAction, audit_record
from provplattform.errors import NotFound, Refused
from provplattform.hooks import Hook
from schools.models import Person, User
from schools.roles import Capability
from schools.selectors import user_has_capability

# Higher layers (grading) subscribe here to react to a submit; called with the attempt inside the
# submit's transaction (grading subscribes in its AppConfig.ready(): `submit_subscribers.append(f)`
# or `on_submit(f)`).
submit_subscribers: Hook[Callable[[Attempt], None]] = Hook("submit")


def on_submit(callback: Callable[[Attempt], None]) -> Callable[[Attempt], None]:
    """Subscribe `callback(attempt)` to every submit, by the student or automatic."""
    return submit_subscribers.subscribe(callback)


class AttemptRefused(Refused):
    """A refused change; the message is short, translated and safe to show."""

    def __init__(self, message: str, *, code: str = "refused"):
        super().__init__(message)
        self.code = code


# --- helpers --------------------------------------------------------------------------------------


def grace_seconds() -> int:
    return settings.DELIVERY_LATE_GRACE_S


def clock_of(attempt: Attempt) -> timer.Clock:
    return timer.Clock(
        started_at=attempt.started_at,
        duration_seconds=attempt.duration_seconds,
        extended_seconds=attempt.extended_seconds,
        added_seconds=attempt.added_seconds,
        paused_seconds=attempt.paused_seconds,
        paused_at=attempt.paused_at,
    )


def apply_clock(attempt: Attempt, clock: timer.Clock) -> None:
    attempt.started_at = clock.started_at
    attempt.duration_seconds = clock.duration_seconds
    attempt.extended_seconds = clock.extended_seconds
    attempt.added_seconds = clock.added_seconds
    attempt.paused_seconds = clock.paused_seconds
    attempt.paused_at = clock.paused_at
    attempt.deadline = clock.deadline


def attempt_timing(attempt: Attempt) -> dict[str, Any]:
    """The attempt's status and time, as its audit rows record them before and after."""
    return {
        "status": attempt.status,
        "deadline": attempt.deadline.isoformat() if attempt.deadline else None,
        "added_seconds": attempt.added_seconds,
        "paused_seconds": attempt.paused_seconds,
    }


def require_proctor(actor: User, sitting: Sitting) -> None:
    """Proctors of the sitting's school unit only; anyone else is told it does not exist."""
    if not user_has_capability(
        user=actor, school_unit=sitting.school_unit, capability=Capability.PROCTOR
    ):
        raise NotFound()


def attempts_for_update() -> QuerySet[Attempt]:
    """Attempts locked for a change. Only the attempt's own row is locked (`of=("self",)`): a
    plain FOR UPDATE over the joins would also lock the sitting, unit, subtest and person rows, so
    300 students of one sitting logging in or starting at once would queue behind each other."""
    return Attempt.objects.select_for_update(of=("self",)).select_related(
        "sitting__school_unit", "sitting__subtest", "sitting__room", "person"
    )


def attempt_locked(attempt: Attempt) -> Attempt:
    return attempts_for_update().get(pk=attempt.pk)


def attempt_audit(
    actor: User | None, action: AuditAction, attempt: Attempt, before: Any, reason: str = ""
) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=attempt,
        before=before,
        after=attempt_timing(attempt),
        reason=reason,
        scope=attempt.sitting.school_unit,
    )


def placed_person_ids(sitting: Sitting) -> QuerySet[SittingStudent, Any]:
    """The students still placed in the sitting: an exemption withdraws the placement."""
    return SittingStudent.objects.filter(sitting=sitting).values("person_id")


def require_placed(*, sitting: Sitting, person: Person) -> None:
    """Someone not placed in the sitting is not one of its students: 404, as for a stranger."""
    if not SittingStudent.objects.filter(sitting=sitting, person=person).exists():
        raise NotFound()


def attempts_ensure(*, sitting: Sitting) -> None:
    """One NOT_STARTED attempt for every student placed in the sitting (idempotent)."""
    have = set(Attempt.objects.filter(sitting=sitting).values_list("person_id", flat=True))
    missing = [
        Attempt(sitting=sitting, person_id=pid)
        for pid in SittingStudent.objects.filter(sitting=sitting).values_list(
            "person_id", flat=True
        )
        if pid not in have
    ]
    if missing:
        Attempt.objects.bulk_create(missing, ignore_conflicts=True)


# --- release ------------------------------------------------------------------------------------


def release_allowed(*, sitting: Sitting, now: datetime.datetime) -> bool:
    """Only on the sitting's own date, inside the subtest's opening hours, on the unit's clock."""
    zone = unit_zone(sitting.school_unit)
    local = now.astimezone(zone)
    subtest = sitting.subtest
    return (
        sitting.status == SittingStatus.SCHEDULED
        and sitting.starts_at.astimezone(zone).date() == local.date()
        and subtest.opens_at <= local.time() < subtest.closes_at
    )


def attempt_release(*, actor: User, sitting: Sitting, person: Person | None = None) -> int:
    """Release the test to the whole sitting or to one student. Returns how many were released.

    Released students start when their client opens the test; the timer starts then, so a
    student who logs in late loses no time.
    """
    require_proctor(actor, sitting)
    now = timezone.now()
    if not release_allowed(sitting=sitting, now=now):
        raise AttemptRefused(
            _("The test can only be released on the sitting's day, within its opening hours."),
            code="outside_opening_hours",
        )
    with transaction.atomic():
        attempts_ensure(sitting=sitting)
        qs = Attempt.objects.select_for_update(of=("self",)).filter(
            sitting=sitting, released_at__isnull=True
        )
        if person is not None:
            qs = qs.filter(person=person)
            require_placed(sitting=sitting, person=person)
            statuses = AttemptStatus.BEFORE_START | {AttemptStatus.ABSENT}
        else:
            # Only students still placed: an exemption withdraws the placement, not the attempt.
            qs = qs.filter(person_id__in=placed_person_ids(sitting))
            statuses = AttemptStatus.BEFORE_START
        released = 0
        attempts = list(
            qs.filter(status__in=statuses).select_related("sitting__school_unit", "person")
        )
        if person is not None and not attempts:
            raise AttemptRefused(
                _("This student has already been released or has started."),
                code="not_releasable",
            )
        for attempt in attempts:
            before = attempt_timing(attempt)
            attempt.released_at = now
            if attempt.status == AttemptStatus.ABSENT:
                attempt.status = AttemptStatus.NOT_STARTED
            attempt.save(update_fields=["released_at", "status", "modified"])
            attempt_audit(actor, AuditAction.ATTEMPT_RELEASE, attempt, before)
            attempt_announce(attempt)
            released += 1
        return released


# --- the student's own transitions ------------------------------------------------------------


def attempt_extra_seconds(attempt: Attempt) -> int:
    """The extended time the student's adjustments give them on this subtest now."""
    return int(extra_seconds_for(person=attempt.person, subtest=attempt.sitting.subtest) or 0)


def attempt_start(*, attempt: Attempt) -> Attempt:
    """Start the timer when a released student opens the test (idempotent).

    Freezes the subtest's items and locks the student's adjustments: extended time is read now.
    """
    with transaction.atomic():
        attempt = attempt_locked(attempt)
        if attempt.started_at is not None or attempt.released_at is None:
            return attempt
        if attempt.status not in AttemptStatus.BEFORE_START:
            return attempt
        subtest = attempt.sitting.subtest
        now = timezone.now()
        clock = timer.start(
            clock_of(attempt),
            now=now,
            duration_seconds=subtest.duration_minutes * 60,
            extended_seconds=attempt_extra_seconds(attempt),
        )
        apply_clock(attempt, clock)
        attempt.status = AttemptStatus.WORKING
        attempt.save()
        subtest_freeze(subtest=subtest)
        adjustments_lock(person=attempt.person, subtest=subtest)
        attempt_audit(None, AuditAction.ATTEMPT_START, attempt, None)
        attempt_announce(attempt)
        return attempt


def submit_locked(
    attempt: Attempt,
    *,
    now: datetime.datetime,
    action: AuditAction,
    auto: bool,
    actor: User | None = None,
    reason: str = "",
) -> Attempt:
    """The one submit: every path (the student, the deadline, the proctor, the day's closing)
    ends here, so the submit subscribers (grading) see every submitted attempt exactly once.

    Called inside the caller's transaction with the attempt locked and open. The answers are the
    latest the server holds; a paused clock is stopped first so the paused time is credited.
    """
    before = attempt_timing(attempt)
    if attempt.paused_at is not None:
        apply_clock(attempt, timer.resume(clock_of(attempt), now=now))
    attempt.status = AttemptStatus.SUBMITTED
    attempt.submitted_at = now
    attempt.auto_submitted = auto
    attempt.save()
    attempt_audit(actor, action, attempt, before, reason=reason)
    submit_subscribers.notify(attempt)
    attempt_announce(attempt)
    return attempt


def attempt_submit(*, attempt: Attempt, auto: bool = False) -> Attempt:
    """Submit with every answer the server holds. An automatic submit never comes early."""
    with transaction.atomic():
        attempt = attempt_locked(attempt)
        if attempt.status == AttemptStatus.SUBMITTED:
            return attempt
        if attempt.status not in AttemptStatus.OPEN:
            raise AttemptRefused(_("This test is not in progress."), code="not_started")
        now = timezone.now()
        if auto and not timer.is_due(clock_of(attempt), now=now, grace_seconds=grace_seconds()):
            raise AttemptRefused(_("The time is not up yet."), code="not_due")
        action = AuditAction.ATTEMPT_AUTO_SUBMIT if auto else AuditAction.ATTEMPT_SUBMIT
        return submit_locked(attempt, now=now, action=action, auto=auto)


def attempt_submit_for_student(*, actor: User, attempt: Attempt, reason: str) -> Attempt:
    """The proctor submits a working or paused student's test (e.g. a student who left while
    paused), with the latest answers the server holds; audited with the proctor and the reason."""
    require_proctor(actor, attempt.sitting)
    if not (reason or "").strip():
        raise AttemptRefused(_("Give a reason."), code="reason_required")
    with transaction.atomic():
        attempt = attempt_locked(attempt)
        if attempt.status not in AttemptStatus.OPEN:
            raise AttemptRefused(
                _("Only a student who is working or paused can be submitted."), code="not_open"
            )
        return submit_locked(
            attempt,
            now=timezone.now(),
            action=AuditAction.ATTEMPT_PROCTOR_SUBMIT,
            auto=False,
            actor=actor,
            reason=reason.strip(),
        )


# --- proctor actions ----------------------------------------------------------------------------


def attempt_mark_absent(*, actor: User, attempt: Attempt) -> Attempt:
    """Only a student who has not started, and who is still placed in the sitting (an exempt
    student is not), can be marked absent."""
    require_proctor(actor, attempt.sitting)
    with transaction.atomic():
        attempt = attempt_locked(attempt)
        if (
            attempt.status not in AttemptStatus.BEFORE_START
            or not placed_person_ids(attempt.sitting).filter(person_id=attempt.person_id).exists()
        ):
            raise AttemptRefused(_("Only a student who has not started can be marked absent."))
        before = attempt_timing(attempt)
        attempt.status = AttemptStatus.ABSENT
        attempt.released_at = None
        attempt.save()
        attempt_audit(actor, AuditAction.ATTEMPT_MARK_ABSENT, attempt, before)
        attempt_announce(attempt)
        return attempt


def attempt_pause(*, actor: User, attempt: Attempt) -> Attempt:
    """Stop the student's clock; the paused time is credited on resume."""
    require_proctor(actor, attempt.sitting)
    with transaction.atomic():
        attempt = attempt_locked(attempt)
        if attempt.status != AttemptStatus.WORKING:
            raise AttemptRefused(_("Only a student who is working can be paused."))
        before = attempt_timing(attempt)
        apply_clock(attempt, timer.pause(clock_of(attempt), now=timezone.now()))
        attempt.status = AttemptStatus.PAUSED
        attempt.save()
        attempt_audit(actor, AuditAction.ATTEMPT_PAUSE, attempt, before)
        attempt_announce(attempt)
        return attempt


def attempt_resume(*, actor: User, attempt: Attempt) -> Attempt:
    require_proctor(actor, attempt.sitting)
    with transaction.atomic():
        attempt = attempt_locked(attempt)
        if attempt.status != AttemptStatus.PAUSED:
            raise AttemptRefused(_("Only a paused student can be resumed."))
        before = attempt_timing(attempt)
        apply_clock(attempt, timer.resume(clock_of(attempt), now=timezone.now()))
        attempt.status = AttemptStatus.WORKING
        attempt.save()
        attempt_audit(actor, AuditAction.ATTEMPT_RESUME, attempt, before)
        attempt_announce(attempt)
        return attempt


def attempt_add_time(*, actor: User, attempt: Attempt, minutes: int, reason: str) -> Attempt:
    """Add time on the day, audited with a reason. Never to a submitted attempt: reopen first."""
    require_proctor(actor, attempt.sitting)
    if not reason.strip():
        raise AttemptRefused(_("Give a reason."), code="reason_required")
    if minutes is None or int(minutes) <= 0 or int(minutes) > 600:
        raise AttemptRefused(_("Add between 1 and 600 minutes."), code="bad_minutes")
    with transaction.atomic():
        attempt = attempt_locked(attempt)
        if attempt.status in AttemptStatus.FINISHED:
            raise AttemptRefused(_("Time can only be added to a test in progress."))
        before = attempt_timing(attempt)
        apply_clock(attempt, timer.add_time(clock_of(attempt), seconds=int(minutes) * 60))
        attempt.save()
        attempt_audit(actor, AuditAction.ATTEMPT_ADD_TIME, attempt, before, reason=reason.strip())
        attempt_announce(attempt)
        return attempt


# A reopened test must leave the student at least this long, or the proctor adds time.
REOPEN_MIN_REMAINING_S = 60


def attempt_reopen(
    *, actor: User, attempt: Attempt, reason: str, minutes: int | None = None
) -> Attempt:
    """Reopen a submitted attempt, audited with a reason.

    The time between the submit and now is credited, so the student has the time that was left
    when they submitted; the deadline never moves earlier. `minutes` adds time on top (from now,
    if the time had run out), audited as time added with the same reason. When less than
    REOPEN_MIN_REMAINING_S would be left (an automatic submit, or a submit at the last moment),
    the minutes are required: the reopened attempt always has its deadline in the future.
    """
    require_proctor(actor, attempt.sitting)
    if not reason.strip():
        raise AttemptRefused(_("Give a reason."), code="reason_required")
    if minutes is not None and (int(minutes) <= 0 or int(minutes) > 600):
        raise AttemptRefused(_("Add between 1 and 600 minutes."), code="bad_minutes")
    with transaction.atomic():
        attempt = attempt_locked(attempt)
        if attempt.status != AttemptStatus.SUBMITTED:
            raise AttemptRefused(_("Only a submitted test can be reopened."))
        if attempt.sitting.status == SittingStatus.ENDED:
            raise AttemptRefused(_("The sitting has ended."))
        before = attempt_timing(attempt)
        now = timezone.now()
        credited = timer.credit_since(clock_of(attempt), since=attempt.submitted_at, now=now)
        floor = now + datetime.timedelta(seconds=REOPEN_MIN_REMAINING_S)
        if not minutes and credited.deadline < floor:
            raise AttemptRefused(
                _("The time is up: give the minutes the student gets to continue."),
                code="minutes_required",
            )
        add_seconds = int(minutes or 0) * 60
        apply_clock(
            attempt,
            timer.reopen(
                clock_of(attempt), since=attempt.submitted_at, now=now, add_seconds=add_seconds
            ),
        )
        attempt.status = AttemptStatus.WORKING
        attempt.submitted_at = None
        attempt.auto_submitted = False
        attempt.save()
        attempt_audit(actor, AuditAction.ATTEMPT_REOPEN, attempt, before, reason=reason.strip())
        if add_seconds:
            audit_record(
                actor=actor,
                action=AuditAction.ATTEMPT_ADD_TIME,
                target=attempt,
                before={"added_seconds": before["added_seconds"]},
                after=attempt_timing(attempt) | {"minutes": add_seconds // 60},
                reason=reason.strip(),
                scope=attempt.sitting.school_unit,
            )
        attempt_announce(attempt)
        return attempt
