"""Writes on attempts and responses: the attempt state machine, the save path (ORM variant),
device switching and the proctor's actions.

Every service runs in one transaction, writes an audit row where a student's situation changes,
and sends its live event after commit. Times come from the server's clock.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Callable, Collection
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from delivery import save_rule, timer
from delivery.models import Attempt, AttemptStatus, Notice, NoticeKind, Response
from delivery.notices import QUIET_STATUSES, lost_since_by_attempt, notice_payload
from delivery.presence import Presence, forget_finished
from exams.day_passwords import unit_zone
from exams.definitions.services import subtest_freeze
from exams.models import Item, Sitting, SittingStatus, SittingStudent
from exams.preparation.common import ExamRefused
from exams.preparation.decisions import adjustments_lock
from exams.preparation.rules import extra_seconds_for
from provplattform.audit import AuditAction, audit_record
from provplattform.errors import NotFound, Refused
from provplattform.hooks import Hook
from provplattform.live import send_on_commit
from schools.roles import Capability
from schools.selectors import user_has_capability

OPEN_STATUSES = (AttemptStatus.WORKING, AttemptStatus.PAUSED)
# Higher layers (grading) subscribe here to react to a submit; called inside the transaction.
# Called with the attempt inside the submit's transaction (grading subscribes in its
# AppConfig.ready(): `submit_subscribers.append(f)` or `on_submit(f)`).
submit_subscribers: Hook[Callable[[Attempt], None]] = Hook("submit")


def on_submit(callback: Callable[[Attempt], None]) -> Callable[[Attempt], None]:
    """Subscribe `callback(attempt)` to every submit, by the student or automatic."""
    return submit_subscribers.subscribe(callback)


class AttemptRefused(Refused):
    """A refused change; the message is short, translated and safe to show."""

    def __init__(self, message: str, *, code: str = "refused"):
        super().__init__(message)
        self.code = code


# What the proctor room offers per attempt status. The services below are the authority and refuse
# anything else; "release" is offered only while the student has not been released. Time can be
# added to a student who has not started (the services accept it), but the room offers it only to
# a test in progress: before the start, extended time belongs in the student's adjustments.
ROW_ACTIONS: dict[str, tuple[str, ...]] = {
    AttemptStatus.NOT_STARTED: ("release", "absent"),
    AttemptStatus.WAITING: ("release", "absent"),
    AttemptStatus.WORKING: ("pause", "add_time", "submit"),
    AttemptStatus.PAUSED: ("resume", "add_time", "submit"),
    AttemptStatus.SUBMITTED: ("reopen",),
    AttemptStatus.ABSENT: ("release",),
    AttemptStatus.EXEMPT: (),
}


def attempt_actions(*, status: str, released: bool, sitting_ended: bool) -> tuple[str, ...]:
    """The proctor's actions that apply to an attempt now (none once the sitting has ended)."""
    if sitting_ended:
        return ()
    return tuple(a for a in ROW_ACTIONS.get(status, ()) if not (a == "release" and released))


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


def _apply_clock(attempt: Attempt, clock: timer.Clock) -> None:
    attempt.started_at = clock.started_at
    attempt.duration_seconds = clock.duration_seconds
    attempt.extended_seconds = clock.extended_seconds
    attempt.added_seconds = clock.added_seconds
    attempt.paused_seconds = clock.paused_seconds
    attempt.paused_at = clock.paused_at
    attempt.deadline = clock.deadline


def _timing(attempt: Attempt) -> dict[str, Any]:
    return {
        "status": attempt.status,
        "deadline": attempt.deadline.isoformat() if attempt.deadline else None,
        "added_seconds": attempt.added_seconds,
        "paused_seconds": attempt.paused_seconds,
    }


def attempt_event(attempt: Attempt) -> dict[str, Any]:
    return {
        "type": "attempt.changed",
        "attempt": str(attempt.public_id),
        "person": str(attempt.person.public_id),
        "status": attempt.status,
        "deadline": attempt.deadline.isoformat() if attempt.deadline else None,
        "released": attempt.released_at is not None,
    }


def _announce(attempt: Attempt) -> None:
    send_on_commit(f"sitting.{attempt.sitting.public_id}", attempt_event(attempt))
    send_on_commit(f"attempt.{attempt.public_id}", attempt_event(attempt))
    if attempt.status in QUIET_STATUSES:
        # A student who left before finishing would otherwise stay "lost" in the presence store.
        presence = Presence.of(attempt)
        transaction.on_commit(lambda: forget_finished(presence))


def _require_proctor(actor, sitting: Sitting) -> None:
    """Proctors of the sitting's school unit only; anyone else is told it does not exist."""
    if not user_has_capability(
        user=actor, school_unit=sitting.school_unit, capability=Capability.PROCTOR
    ):
        raise NotFound()


def _for_update():
    """Attempts locked for a change. Only the attempt's own row is locked (`of=("self",)`): a
    plain FOR UPDATE over the joins would also lock the sitting, unit, subtest and person rows, so
    300 students of one sitting logging in or starting at once would queue behind each other."""
    return Attempt.objects.select_for_update(of=("self",)).select_related(
        "sitting__school_unit", "sitting__subtest", "sitting__room", "person"
    )


def _locked(attempt: Attempt) -> Attempt:
    return _for_update().get(pk=attempt.pk)


def _audit(actor, action: AuditAction, attempt: Attempt, before, reason: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        target=attempt,
        before=before,
        after=_timing(attempt),
        reason=reason,
        scope=attempt.sitting.school_unit,
    )


def _placed(sitting: Sitting):
    return SittingStudent.objects.filter(sitting=sitting).values("person_id")


def require_placed(*, sitting: Sitting, person) -> None:
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


def attempt_release(*, actor, sitting: Sitting, person=None) -> int:
    """Release the test to the whole sitting or to one student. Returns how many were released.

    Released students start when their client opens the test; the timer starts then, so a
    student who logs in late loses no time.
    """
    _require_proctor(actor, sitting)
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
            statuses = (AttemptStatus.NOT_STARTED, AttemptStatus.WAITING, AttemptStatus.ABSENT)
        else:
            # Only students still placed: an exemption withdraws the placement, not the attempt.
            qs = qs.filter(person_id__in=_placed(sitting))
            statuses = (AttemptStatus.NOT_STARTED, AttemptStatus.WAITING)
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
            before = _timing(attempt)
            attempt.released_at = now
            if attempt.status == AttemptStatus.ABSENT:
                attempt.status = AttemptStatus.NOT_STARTED
            attempt.save(update_fields=["released_at", "status", "modified"])
            _audit(actor, AuditAction.ATTEMPT_RELEASE, attempt, before)
            _announce(attempt)
            released += 1
        return released


# --- the student's own transitions ------------------------------------------------------------


def _extra_seconds(attempt: Attempt) -> int:
    return int(extra_seconds_for(person=attempt.person, subtest=attempt.sitting.subtest) or 0)


def attempt_start(*, attempt: Attempt) -> Attempt:
    """Start the timer when a released student opens the test (idempotent).

    Freezes the subtest's items and locks the student's adjustments: extended time is read now.
    """
    with transaction.atomic():
        attempt = _locked(attempt)
        if attempt.started_at is not None or attempt.released_at is None:
            return attempt
        if attempt.status not in (AttemptStatus.NOT_STARTED, AttemptStatus.WAITING):
            return attempt
        subtest = attempt.sitting.subtest
        now = timezone.now()
        clock = timer.start(
            clock_of(attempt),
            now=now,
            duration_seconds=subtest.duration_minutes * 60,
            extended_seconds=_extra_seconds(attempt),
        )
        _apply_clock(attempt, clock)
        attempt.status = AttemptStatus.WORKING
        attempt.save()
        subtest_freeze(subtest=subtest)
        adjustments_lock(person=attempt.person, subtest=subtest)
        _audit(None, AuditAction.ATTEMPT_START, attempt, None)
        _announce(attempt)
        return attempt


def _submit_locked(
    attempt: Attempt,
    *,
    now: datetime.datetime,
    action: AuditAction,
    auto: bool,
    actor=None,
    reason="",
) -> Attempt:
    """The one submit: every path (the student, the deadline, the proctor, the day's closing)
    ends here, so the submit subscribers (grading) see every submitted attempt exactly once.

    Called inside the caller's transaction with the attempt locked and open. The answers are the
    latest the server holds; a paused clock is stopped first so the paused time is credited.
    """
    before = _timing(attempt)
    if attempt.paused_at is not None:
        _apply_clock(attempt, timer.resume(clock_of(attempt), now=now))
    attempt.status = AttemptStatus.SUBMITTED
    attempt.submitted_at = now
    attempt.auto_submitted = auto
    attempt.save()
    _audit(actor, action, attempt, before, reason=reason)
    submit_subscribers.notify(attempt)
    _announce(attempt)
    return attempt


def attempt_submit(*, attempt: Attempt, auto: bool = False) -> Attempt:
    """Submit with every answer the server holds. An automatic submit never comes early."""
    with transaction.atomic():
        attempt = _locked(attempt)
        if attempt.status == AttemptStatus.SUBMITTED:
            return attempt
        if attempt.status not in OPEN_STATUSES:
            raise AttemptRefused(_("This test is not in progress."), code="not_started")
        now = timezone.now()
        if auto and not timer.is_due(clock_of(attempt), now=now, grace_seconds=grace_seconds()):
            raise AttemptRefused(_("The time is not up yet."), code="not_due")
        action = AuditAction.ATTEMPT_AUTO_SUBMIT if auto else AuditAction.ATTEMPT_SUBMIT
        return _submit_locked(attempt, now=now, action=action, auto=auto)


def attempt_submit_for_student(*, actor, attempt: Attempt, reason: str) -> Attempt:
    """The proctor submits a working or paused student's test (e.g. a student who left while
    paused), with the latest answers the server holds; audited with the proctor and the reason."""
    _require_proctor(actor, attempt.sitting)
    if not (reason or "").strip():
        raise AttemptRefused(_("Give a reason."), code="reason_required")
    with transaction.atomic():
        attempt = _locked(attempt)
        if attempt.status not in OPEN_STATUSES:
            raise AttemptRefused(
                _("Only a student who is working or paused can be submitted."), code="not_open"
            )
        return _submit_locked(
            attempt,
            now=timezone.now(),
            action=AuditAction.ATTEMPT_PROCTOR_SUBMIT,
            auto=False,
            actor=actor,
            reason=reason.strip(),
        )


def attempts_auto_submit_due(*, now: datetime.datetime | None = None) -> int:
    """Submit every working attempt whose deadline plus the late-delivery grace has passed.

    Paused attempts are never submitted: their clock stands still. Returns how many were submitted.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=grace_seconds())
    due = list(
        Attempt.objects.filter(status=AttemptStatus.WORKING, deadline__lte=cutoff).values_list(
            "pk", flat=True
        )
    )
    submitted = 0
    for pk in due:
        try:
            attempt_submit(attempt=Attempt(pk=pk), auto=True)
        except AttemptRefused:
            continue
        submitted += 1
    return submitted


def sitting_closes_at(sitting: Sitting) -> datetime.datetime:
    """When the attempts still open in the sitting are submitted: the limit the sitting sets,
    otherwise the end of the subtest's opening hours on the sitting's day (the unit's clock)."""
    if sitting.closes_at is not None:
        return sitting.closes_at
    zone = unit_zone(sitting.school_unit)
    day = sitting.starts_at.astimezone(zone).date()
    return datetime.datetime.combine(day, sitting.subtest.closes_at, tzinfo=zone)


def attempts_submit_at_closing(*, now: datetime.datetime | None = None) -> int:
    """Submit every attempt still open (paused or working, connected or not) in a sitting whose
    closing time has passed, with the latest saved answers; audited, and the proctors get a
    notice. A paused attempt has no running clock, so without this it would stay open for ever.

    Extended (or added) time may run past closing: a working attempt whose deadline lies after
    the closing time keeps it, and the deadline submits it. Returns how many were submitted."""
    now = now or timezone.now()
    # One query: the sittings that have begun and still hold an open attempt (the sweeper checks
    # every few seconds, so it must stay cheap whatever the number of students).
    sittings = Sitting.objects.filter(
        starts_at__lte=now,
        pk__in=Attempt.objects.filter(status__in=OPEN_STATUSES).values("sitting_id"),
    ).select_related("school_unit__organiser", "subtest")
    submitted = 0
    for sitting in sittings:
        closes = sitting_closes_at(sitting)
        if closes > now:
            continue
        with transaction.atomic():
            for attempt in _for_update().filter(sitting=sitting, status__in=OPEN_STATUSES):
                if attempt.status == AttemptStatus.WORKING and (
                    attempt.deadline is not None and attempt.deadline > closes
                ):
                    continue  # time running past closing is the student's (extended time)
                _submit_locked(
                    attempt,
                    now=now,
                    action=AuditAction.ATTEMPT_CLOSING_SUBMIT,
                    auto=True,
                    reason="the sitting's closing time passed",
                )
                _proctor_notice(attempt, NoticeKind.SUBMITTED_AT_CLOSING)
                submitted += 1
    return submitted


# Least time a running attempt keeps when extended time is reduced on the day.
REDUCTION_MIN_REMAINING_S = 60


def attempts_extended_time_changed(
    *, actor, school_unit, person, subtests, reason: str = ""
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
        attempts = _for_update().filter(
            person=person,
            sitting__school_unit=school_unit,
            sitting__subtest__in=list(subtests),
            status__in=OPEN_STATUSES,
        )
        now = timezone.now()
        for attempt in attempts:
            old = attempt.extended_seconds
            new = _extra_seconds(attempt)
            if new == old:
                continue
            clock = timer.set_extended(clock_of(attempt), seconds=new)
            floor = now + datetime.timedelta(seconds=REDUCTION_MIN_REMAINING_S)
            if new < old and clock.effective_deadline(now) < floor:
                raise ExamRefused(
                    _(
                        "The student is sitting the test: less extended time would end it "
                        "within a minute. Give at least %(minutes)d minutes."
                    )
                    % {"minutes": _least_extended_minutes(attempt, clock, now=now)}
                )
            before = _timing(attempt) | {"extended_seconds": old}
            _apply_clock(attempt, clock)
            attempt.save()
            audit_record(
                actor=actor,
                action=AuditAction.ATTEMPT_EXTENDED_TIME_CHANGE,
                target=attempt,
                before=before,
                after=_timing(attempt) | {"extended_seconds": new},
                reason=reason,
                scope=attempt.sitting.school_unit,
            )
            _announce(attempt)
            changed += 1
    return changed


def _least_extended_minutes(attempt: Attempt, clock: timer.Clock, *, now) -> int:
    """The fewest whole minutes of extended time that keep the attempt open past the floor."""
    floor = now + datetime.timedelta(seconds=REDUCTION_MIN_REMAINING_S)
    missing = (floor - clock.effective_deadline(now)).total_seconds()
    return math.ceil((clock.extended_seconds + missing) / 60)


# --- device -------------------------------------------------------------------------------------


def _device_mac(attempt_public_id, nonce: str) -> str:
    key = settings.STUDENT_CREDENTIAL_PEPPER.encode()
    message = f"device:{attempt_public_id}:{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def new_device_token(*, attempt_public_id) -> str:
    """A random token that also proves which attempt it was issued for (see below)."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_device_mac(attempt_public_id, nonce)}"


def device_token_was_issued(*, attempt_public_id, token: str) -> bool:
    """Whether `token` was once issued for this attempt: only such a device is told that it was
    replaced; any other token learns nothing, the same "not found" as a random attempt id."""
    nonce, _sep, mac = token.partition(".")
    return bool(nonce and mac) and hmac.compare_digest(mac, _device_mac(attempt_public_id, nonce))


def attempt_login(
    *,
    attempt: Attempt | None = None,
    sitting: Sitting | None = None,
    person=None,
    device_label: str = "",
) -> tuple[Attempt, str, bool]:
    """Bind the attempt to a new device: (attempt, device token, whether a device was replaced).

    Give the attempt, or the sitting and the student (the attempt is created if the proctor room
    has not created it yet). One active device per attempt: the old device's next save is refused
    with device_replaced, it is told over its socket, and the proctors get a notice.
    """
    with transaction.atomic():
        if attempt is not None:
            attempt = _locked(attempt)
        else:
            attempt = _for_update().filter(sitting=sitting, person=person).first()
            if attempt is None:
                # ON CONFLICT DO NOTHING: a concurrent login of the same student is not an error.
                Attempt.objects.bulk_create(
                    [Attempt(sitting=sitting, person=person)], ignore_conflicts=True
                )
                attempt = _for_update().get(sitting=sitting, person=person)
        replaced = bool(attempt.device_token) and attempt.status in (
            AttemptStatus.WAITING,
            *OPEN_STATUSES,
        )
        old_token = attempt.device_token
        token = new_device_token(attempt_public_id=attempt.public_id)
        attempt.device_token = token
        attempt.device_label = device_label[:200]
        # A student marked absent who turns up after all waits like everyone else, so the next
        # "release to everyone" includes them; the proctors are told.
        arrived_late = (
            attempt.status == AttemptStatus.ABSENT
            and attempt.sitting.status == SittingStatus.SCHEDULED
        )
        before = _timing(attempt)
        if attempt.status == AttemptStatus.NOT_STARTED or arrived_late:
            attempt.status = AttemptStatus.WAITING
        attempt.save(update_fields=["device_token", "device_label", "status", "modified"])
        if arrived_late:
            _arrived_after_absent(attempt, before)
        if replaced:
            gap = _device_gap_seconds(attempt)
            notice = Notice.objects.create(
                sitting=attempt.sitting,
                school_unit=attempt.sitting.school_unit,
                room=attempt.sitting.room,
                person=attempt.person,
                kind=NoticeKind.DEVICE_SWITCHED,
                data={"attempt": str(attempt.public_id), "gap_seconds": gap},
            )
            audit_record(
                actor=None,
                action=AuditAction.ATTEMPT_DEVICE_SWITCH,
                target=attempt,
                scope=attempt.sitting.school_unit,
            )
            send_on_commit(
                f"attempt.{attempt.public_id}",
                {
                    "type": "device.replaced",
                    "attempt": str(attempt.public_id),
                    "old_device": old_token[:8],
                },
            )
            send_on_commit(
                f"sitting.{attempt.sitting.public_id}",
                {
                    "type": "notice",
                    "id": notice.pk,
                    "kind": notice.kind,
                    "person": str(attempt.person.public_id),
                    "name": attempt.person.full_name,
                    "attempt": str(attempt.public_id),
                    "at": notice.at.isoformat(),
                    "gap_seconds": gap,
                },
            )
        # The proctor room follows logins; the student's own device needs no echo.
        send_on_commit(f"sitting.{attempt.sitting.public_id}", attempt_event(attempt))
        return attempt, token, replaced


def _device_gap_seconds(attempt: Attempt) -> int:
    """What a device switch cost a working student: from the old device's last save (or the
    start) to this login. Zero when the clock was not running (paused, not started)."""
    if attempt.status != AttemptStatus.WORKING or attempt.started_at is None:
        return 0
    last = Response.objects.filter(attempt=attempt).aggregate(last=Max("server_saved_at"))["last"]
    since = max(last or attempt.started_at, attempt.started_at)
    return max(0, round((timezone.now() - since).total_seconds()))


def _proctor_notice(attempt: Attempt, kind: str) -> None:
    """A notice about one student for the sitting's proctors, stored and pushed after commit.
    Not a connectivity matter: the proctors' history only, not the IT page."""
    notice = Notice.objects.create(
        sitting=attempt.sitting,
        school_unit=attempt.sitting.school_unit,
        room=attempt.sitting.room,
        person=attempt.person,
        kind=kind,
        data={
            "attempt": str(attempt.public_id),
            "person": str(attempt.person.public_id),
            "name": attempt.person.full_name,
            "it_hidden": True,
        },
    )
    send_on_commit(f"sitting.{attempt.sitting.public_id}", notice_payload(notice))


def _arrived_after_absent(attempt: Attempt, before: dict[str, Any]) -> None:
    _proctor_notice(attempt, NoticeKind.ARRIVED_AFTER_ABSENT)
    _audit(None, AuditAction.ATTEMPT_ARRIVED_AFTER_ABSENT, attempt, before)


# --- saves (ORM path: SQLite and the fallback) ------------------------------------------------


# The rule and its answer are shared with the PostgreSQL path (delivery.save_api).
Save = save_rule.Save
SaveResult = save_rule.SaveResult
newest_per_item = save_rule.newest_per_item


_UPSERT = """
INSERT INTO delivery_response
    (attempt_id, item_id, content, seq, flagged, client_saved_at, server_saved_at, late)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (attempt_id, item_id) DO UPDATE SET
    content = excluded.content, seq = excluded.seq, flagged = excluded.flagged,
    client_saved_at = excluded.client_saved_at, server_saved_at = excluded.server_saved_at,
    late = excluded.late
WHERE delivery_response.seq < excluded.seq
"""


def responses_save(*, attempt_public_id, device_token: str, saves: list[Save]) -> SaveResult:
    """Apply saves whose sequence is newer than what the server holds; acknowledge after commit.

    The rule and its order are delivery.save_rule's; the PostgreSQL path in delivery.save_api
    gathers the same facts in one statement and answers through the same function.
    """
    saves = newest_per_item(saves)
    with transaction.atomic():
        attempt = (
            Attempt.objects.select_for_update(of=("self",))
            .select_related("sitting")
            .filter(public_id=attempt_public_id)
            .first()
        )
        # No token is never the attempt's: an attempt without a device holds an empty one.
        same_device = (
            attempt is not None and bool(device_token) and attempt.device_token == device_token
        )
        refused = save_rule.attempt_refusal(
            found=attempt is not None,
            same_device=same_device,
            status=attempt.status if attempt is not None else "",
            token_issued=same_device
            or device_token_was_issued(attempt_public_id=attempt_public_id, token=device_token),
        )
        if refused:
            return save_rule.save_answer(refused=refused, outcomes=[])
        items = dict(
            Item.objects.filter(
                subtest_id=attempt.sitting.subtest_id, public_id__in=[s.item for s in saves]
            ).values_list("public_id", "pk")
        )
        items = {str(k): v for k, v in items.items()}
        now = timezone.now()
        clock = clock_of(attempt)
        outcomes: list[tuple[Save, str]] = []
        with connection.cursor() as cursor:
            for save in saves:
                accepted, late = timer.save_verdict(
                    clock,
                    now=now,
                    client_saved_at=save.client_saved_at,
                    grace_seconds=grace_seconds(),
                )
                outcome = save_rule.save_outcome(known_item=save.item in items, in_time=accepted)
                outcomes.append((save, outcome))
                if outcome != save_rule.STORED:
                    continue
                cursor.execute(
                    _UPSERT,
                    [
                        attempt.pk,
                        items[save.item],
                        json.dumps(save.content),
                        save.seq,
                        save.flagged,
                        save.client_saved_at,
                        now,
                        late,
                    ],
                )
    return save_rule.save_answer(refused="", outcomes=outcomes)


# --- proctor actions ----------------------------------------------------------------------------


def attempt_mark_absent(*, actor, attempt: Attempt) -> Attempt:
    """Only a student who has not started, and who is still placed in the sitting (an exempt
    student is not), can be marked absent."""
    _require_proctor(actor, attempt.sitting)
    with transaction.atomic():
        attempt = _locked(attempt)
        if (
            attempt.status
            not in (
                AttemptStatus.NOT_STARTED,
                AttemptStatus.WAITING,
            )
            or not _placed(attempt.sitting).filter(person_id=attempt.person_id).exists()
        ):
            raise AttemptRefused(_("Only a student who has not started can be marked absent."))
        before = _timing(attempt)
        attempt.status = AttemptStatus.ABSENT
        attempt.released_at = None
        attempt.save()
        _audit(actor, AuditAction.ATTEMPT_MARK_ABSENT, attempt, before)
        _announce(attempt)
        return attempt


def attempt_pause(*, actor, attempt: Attempt) -> Attempt:
    """Stop the student's clock; the paused time is credited on resume."""
    _require_proctor(actor, attempt.sitting)
    with transaction.atomic():
        attempt = _locked(attempt)
        if attempt.status != AttemptStatus.WORKING:
            raise AttemptRefused(_("Only a student who is working can be paused."))
        before = _timing(attempt)
        _apply_clock(attempt, timer.pause(clock_of(attempt), now=timezone.now()))
        attempt.status = AttemptStatus.PAUSED
        attempt.save()
        _audit(actor, AuditAction.ATTEMPT_PAUSE, attempt, before)
        _announce(attempt)
        return attempt


def attempt_resume(*, actor, attempt: Attempt) -> Attempt:
    _require_proctor(actor, attempt.sitting)
    with transaction.atomic():
        attempt = _locked(attempt)
        if attempt.status != AttemptStatus.PAUSED:
            raise AttemptRefused(_("Only a paused student can be resumed."))
        before = _timing(attempt)
        _apply_clock(attempt, timer.resume(clock_of(attempt), now=timezone.now()))
        attempt.status = AttemptStatus.WORKING
        attempt.save()
        _audit(actor, AuditAction.ATTEMPT_RESUME, attempt, before)
        _announce(attempt)
        return attempt


def attempt_add_time(*, actor, attempt: Attempt, minutes: int, reason: str) -> Attempt:
    """Add time on the day, audited with a reason. Never to a submitted attempt: reopen first."""
    _require_proctor(actor, attempt.sitting)
    if not reason.strip():
        raise AttemptRefused(_("Give a reason."), code="reason_required")
    if minutes is None or int(minutes) <= 0 or int(minutes) > 600:
        raise AttemptRefused(_("Add between 1 and 600 minutes."), code="bad_minutes")
    with transaction.atomic():
        attempt = _locked(attempt)
        if attempt.status in (
            AttemptStatus.SUBMITTED,
            AttemptStatus.ABSENT,
            AttemptStatus.EXEMPT,
        ):
            raise AttemptRefused(_("Time can only be added to a test in progress."))
        before = _timing(attempt)
        _apply_clock(attempt, timer.add_time(clock_of(attempt), seconds=int(minutes) * 60))
        attempt.save()
        _audit(actor, AuditAction.ATTEMPT_ADD_TIME, attempt, before, reason=reason.strip())
        _announce(attempt)
        return attempt


# A reopened test must leave the student at least this long, or the proctor adds time.
REOPEN_MIN_REMAINING_S = 60


def attempt_reopen(*, actor, attempt: Attempt, reason: str, minutes: int | None = None) -> Attempt:
    """Reopen a submitted attempt, audited with a reason.

    The time between the submit and now is credited, so the student has the time that was left
    when they submitted; the deadline never moves earlier. `minutes` adds time on top (from now,
    if the time had run out), audited as time added with the same reason. When less than
    REOPEN_MIN_REMAINING_S would be left (an automatic submit, or a submit at the last moment),
    the minutes are required: the reopened attempt always has its deadline in the future.
    """
    _require_proctor(actor, attempt.sitting)
    if not reason.strip():
        raise AttemptRefused(_("Give a reason."), code="reason_required")
    if minutes is not None and (int(minutes) <= 0 or int(minutes) > 600):
        raise AttemptRefused(_("Add between 1 and 600 minutes."), code="bad_minutes")
    with transaction.atomic():
        attempt = _locked(attempt)
        if attempt.status != AttemptStatus.SUBMITTED:
            raise AttemptRefused(_("Only a submitted test can be reopened."))
        if attempt.sitting.status == SittingStatus.ENDED:
            raise AttemptRefused(_("The sitting has ended."))
        before = _timing(attempt)
        now = timezone.now()
        credited = timer.credit_since(clock_of(attempt), since=attempt.submitted_at, now=now)
        floor = now + datetime.timedelta(seconds=REOPEN_MIN_REMAINING_S)
        if not minutes and credited.deadline < floor:
            raise AttemptRefused(
                _("The time is up: give the minutes the student gets to continue."),
                code="minutes_required",
            )
        add_seconds = int(minutes or 0) * 60
        _apply_clock(
            attempt,
            timer.reopen(
                clock_of(attempt), since=attempt.submitted_at, now=now, add_seconds=add_seconds
            ),
        )
        attempt.status = AttemptStatus.WORKING
        attempt.submitted_at = None
        attempt.auto_submitted = False
        attempt.save()
        _audit(actor, AuditAction.ATTEMPT_REOPEN, attempt, before, reason=reason.strip())
        if add_seconds:
            audit_record(
                actor=actor,
                action=AuditAction.ATTEMPT_ADD_TIME,
                target=attempt,
                before={"added_seconds": before["added_seconds"]},
                after=_timing(attempt) | {"minutes": int(minutes)},
                reason=reason.strip(),
                scope=attempt.sitting.school_unit,
            )
        _announce(attempt)
        return attempt


class OpenAttemptsRefused(AttemptRefused):
    """Ending refused while attempts are open; `open` lists them as the proctor room shows them."""

    def __init__(self, message: str, *, code: str, open_attempts: list[dict[str, str]]):
        super().__init__(message, code=code)
        self.open = open_attempts


# The proctor room's status for an open attempt whose student's connection is gone.
LOST = "lost"


def room_status_labels() -> dict[str, str]:
    """The proctor room's status labels: the attempt statuses plus "Connection lost"."""
    labels = {value: str(label) for value, label in AttemptStatus.choices}
    labels[LOST] = _("Connection lost")
    return labels


def open_attempts(*, sitting: Sitting) -> list[dict[str, str]]:
    """Every attempt still open (working or paused) with the status the proctor room shows for
    it (working, paused or connection lost), so a refusal and the room's counts agree."""
    lost = lost_since_by_attempt(sitting=sitting)
    labels = room_status_labels()
    rows = []
    for attempt in (
        Attempt.objects.filter(sitting=sitting, status__in=OPEN_STATUSES)
        .select_related("person")
        .order_by("person__family_name", "person__given_name", "pk")
    ):
        status = LOST if attempt.pk in lost else attempt.status
        rows.append(
            {
                "attempt": str(attempt.public_id),
                "name": attempt.person.full_name,
                "status": status,
                "label": labels[status],
            }
        )
    return rows


def _open_refusal(still: list[dict[str, str]], *, changed: bool) -> OpenAttemptsRefused:
    labels = room_status_labels()
    counts: dict[str, int] = {}
    for row in still:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    statuses = ", ".join(
        f"{labels[status]}: {counts[status]}"
        for status in (AttemptStatus.WORKING, AttemptStatus.PAUSED, LOST)
        if counts.get(status)
    )
    if changed:
        text = _("The students who have not submitted changed meanwhile: check the list again.")
        return OpenAttemptsRefused(text, code="open_changed", open_attempts=still)
    text = ngettext(
        "%(count)d student has not submitted (%(statuses)s).",
        "%(count)d students have not submitted (%(statuses)s).",
        len(still),
    ) % {"count": len(still), "statuses": statuses}
    return OpenAttemptsRefused(text, code="still_open", open_attempts=still)


def sitting_end(
    *, actor, sitting: Sitting, submit: Collection[str] | None = None, reason: str = ""
) -> Sitting:
    """End the sitting: students who never started are marked absent.

    Attempts still open (working, paused, connection lost) are submitted only when the proctor
    confirmed exactly those: `submit` holds the public ids of the attempts the confirmation
    listed. Without it, or when the open attempts changed since the list was shown, the end is
    refused with the open attempts (OpenAttemptsRefused), counted as the proctor room counts them.
    """
    _require_proctor(actor, sitting)
    with transaction.atomic():
        sitting = Sitting.objects.select_for_update().get(pk=sitting.pk)
        if sitting.status == SittingStatus.ENDED:
            return sitting
        attempts_ensure(sitting=sitting)
        still = open_attempts(sitting=sitting)
        if still:
            if submit is None:
                raise _open_refusal(still, changed=False)
            if {row["attempt"] for row in still} != {str(a) for a in submit}:
                raise _open_refusal(still, changed=True)
            now = timezone.now()
            confirmed = _for_update().filter(
                sitting=sitting, status__in=OPEN_STATUSES, public_id__in=list(submit)
            )
            for attempt in confirmed:
                _submit_locked(
                    attempt,
                    now=now,
                    action=AuditAction.ATTEMPT_PROCTOR_SUBMIT,
                    auto=False,
                    actor=actor,
                    reason=(reason or "").strip() or "sitting ended",
                )
            if Attempt.objects.filter(sitting=sitting, status__in=OPEN_STATUSES).exists():
                # Someone started between the list and the lock: never submit them unseen.
                raise _open_refusal(open_attempts(sitting=sitting), changed=True)
        for attempt in (
            Attempt.objects.select_for_update(of=("self",))
            .filter(sitting=sitting, status__in=(AttemptStatus.NOT_STARTED, AttemptStatus.WAITING))
            .filter(person_id__in=_placed(sitting))  # an exempt student is never absent
            .select_related("sitting__school_unit", "person")
        ):
            before = _timing(attempt)
            attempt.status = AttemptStatus.ABSENT
            attempt.device_token = ""
            attempt.save()
            _audit(actor, AuditAction.ATTEMPT_MARK_ABSENT, attempt, before, reason="sitting ended")
            _announce(attempt)
        sitting.status = SittingStatus.ENDED
        sitting.ended_at = timezone.now()
        sitting.save(update_fields=["status", "ended_at", "modified"])
        audit_record(
            actor=actor,
            action=AuditAction.SITTING_END,
            target=sitting,
            scope=sitting.school_unit,
            after={"status": sitting.status},
        )
        send_on_commit(
            f"sitting.{sitting.public_id}",
            {
                "type": "sitting.changed",
                "sitting": str(sitting.public_id),
                "status": sitting.status,
            },
        )
        return sitting
