"""Ending the attempts the student did not submit: the deadline (after the late-delivery grace),
the sitting's closing time, and the proctor ending the sitting.

Each ends in the one submit (delivery.attempts.submit_locked), so grading sees every submitted
attempt exactly once. The sweeper (delivery.sweeper) and the Celery beat (delivery.tasks) call
the first two every few seconds.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from delivery.attempts import (
    AttemptRefused,
    attempt_audit,
    attempt_submit,
    attempt_timing,
    attempts_ensure,
    attempts_for_update,
    grace_seconds,
    placed_person_ids,
    require_proctor,
    submit_locked,
)
from delivery.events import attempt_announce, proctor_notice, sitting_announce
from delivery.models import Attempt, AttemptStatus, NoticeKind
from delivery.proctor_policy import LOST, open_attempts, room_status_labels
from exams.day_passwords import unit_zone
from exams.models import Sitting, SittingStatus
from provplattform.audit import AuditAction, audit_record
from schools.models import User


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
        pk__in=Attempt.objects.filter(status__in=AttemptStatus.OPEN).values("sitting_id"),
    ).select_related("school_unit__organiser", "subtest")
    submitted = 0
    for sitting in sittings:
        closes = sitting_closes_at(sitting)
        if closes > now:
            continue
        with transaction.atomic():
            for attempt in attempts_for_update().filter(
                sitting=sitting, status__in=AttemptStatus.OPEN
            ):
                if attempt.status == AttemptStatus.WORKING and (
                    attempt.deadline is not None and attempt.deadline > closes
                ):
                    continue  # time running past closing is the student's (extended time)
                submit_locked(
                    attempt,
                    now=now,
                    action=AuditAction.ATTEMPT_CLOSING_SUBMIT,
                    auto=True,
                    reason="the sitting's closing time passed",
                )
                proctor_notice(attempt, NoticeKind.SUBMITTED_AT_CLOSING)
                submitted += 1
    return submitted


class OpenAttemptsRefused(AttemptRefused):
    """Ending refused while attempts are open; `open` lists them as the proctor room shows them."""

    def __init__(self, message: str, *, code: str, open_attempts: list[dict[str, str]]):
        super().__init__(message, code=code)
        self.open = open_attempts


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
    *, actor: User, sitting: Sitting, submit: Collection[str] | None = None, reason: str = ""
) -> Sitting:
    """End the sitting: students who never started are marked absent.

    Attempts still open (working, paused, connection lost) are submitted only when the proctor
    confirmed exactly those: `submit` holds the public ids of the attempts the confirmation
    listed. Without it, or when the open attempts changed since the list was shown, the end is
    refused with the open attempts (OpenAttemptsRefused), counted as the proctor room counts them.
    """
    require_proctor(actor, sitting)
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
            confirmed = attempts_for_update().filter(
                sitting=sitting, status__in=AttemptStatus.OPEN, public_id__in=list(submit)
            )
            for attempt in confirmed:
                submit_locked(
                    attempt,
                    now=now,
                    action=AuditAction.ATTEMPT_PROCTOR_SUBMIT,
                    auto=False,
                    actor=actor,
                    reason=(reason or "").strip() or "sitting ended",
                )
            if Attempt.objects.filter(sitting=sitting, status__in=AttemptStatus.OPEN).exists():
                # Someone started between the list and the lock: never submit them unseen.
                raise _open_refusal(open_attempts(sitting=sitting), changed=True)
        for attempt in (
            Attempt.objects.select_for_update(of=("self",))
            .filter(sitting=sitting, status__in=AttemptStatus.BEFORE_START)
            .filter(person_id__in=placed_person_ids(sitting))  # an exempt student is never absent
            .select_related("sitting__school_unit", "person")
        ):
            before = attempt_timing(attempt)
            attempt.status = AttemptStatus.ABSENT
            attempt.device_token = ""
            attempt.save()
            attempt_audit(
                actor, AuditAction.ATTEMPT_MARK_ABSENT, attempt, before, reason="sitting ended"
            )
            attempt_announce(attempt)
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
        sitting_announce(sitting)
        return sitting
