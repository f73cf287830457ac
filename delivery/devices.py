"""The student's device: the token that binds an attempt to one device, the login that issues it,
and what a login on another device replaces.

One active device per attempt: the old device's next save is refused with device_replaced, it is
told over its socket, and the proctors get a notice.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from delivery.attempts import attempt_audit, attempt_locked, attempt_timing, attempts_for_update
from delivery.events import device_switch_announce, login_announce, proctor_notice
from delivery.models import Attempt, AttemptStatus, Notice, NoticeKind, Response
from exams.models import Sitting, SittingStatus
from provplattform.audit import AuditAction, audit_record
from schools.models import Person


def _device_mac(attempt_public_id: uuid.UUID | str, nonce: str) -> str:
    key = settings.STUDENT_CREDENTIAL_PEPPER.encode()
    message = f"device:{attempt_public_id}:{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def new_device_token(*, attempt_public_id: uuid.UUID | str) -> str:
    """A random token that also proves which attempt it was issued for (see below)."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_device_mac(attempt_public_id, nonce)}"


def device_token_was_issued(*, attempt_public_id: uuid.UUID | str, token: str) -> bool:
    """Whether `token` was once issued for this attempt: only such a device is told that it was
    replaced; any other token learns nothing, the same "not found" as a random attempt id."""
    nonce, _sep, mac = token.partition(".")
    return bool(nonce and mac) and hmac.compare_digest(mac, _device_mac(attempt_public_id, nonce))


def attempt_login(
    *,
    attempt: Attempt | None = None,
    sitting: Sitting | None = None,
    person: Person | None = None,
    device_label: str = "",
) -> tuple[Attempt, str, bool]:
    """Bind the attempt to a new device: (attempt, device token, whether a device was replaced).

    Give the attempt, or the sitting and the student (the attempt is created if the proctor room
    has not created it yet). One active device per attempt: the old device's next save is refused
    with device_replaced, it is told over its socket, and the proctors get a notice.
    """
    with transaction.atomic():
        if attempt is not None:
            attempt = attempt_locked(attempt)
        else:
            attempt = attempts_for_update().filter(sitting=sitting, person=person).first()
            if attempt is None:
                # ON CONFLICT DO NOTHING: a concurrent login of the same student is not an error.
                Attempt.objects.bulk_create(
                    [Attempt(sitting=sitting, person=person)], ignore_conflicts=True
                )
                attempt = attempts_for_update().get(sitting=sitting, person=person)
        replaced = bool(attempt.device_token) and attempt.status in AttemptStatus.LOGGED_IN
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
        before = attempt_timing(attempt)
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
            device_switch_announce(attempt, notice=notice, old_token=old_token, gap=gap)
        login_announce(attempt)
        return attempt, token, replaced


def _device_gap_seconds(attempt: Attempt) -> int:
    """What a device switch cost a working student: from the old device's last save (or the
    start) to this login. Zero when the clock was not running (paused, not started)."""
    if attempt.status != AttemptStatus.WORKING or attempt.started_at is None:
        return 0
    last = Response.objects.filter(attempt=attempt).aggregate(last=Max("server_saved_at"))["last"]
    since = max(last or attempt.started_at, attempt.started_at)
    return max(0, round((timezone.now() - since).total_seconds()))


def _arrived_after_absent(attempt: Attempt, before: dict[str, Any]) -> None:
    proctor_notice(attempt, NoticeKind.ARRIVED_AFTER_ABSENT)
    attempt_audit(None, AuditAction.ATTEMPT_ARRIVED_AFTER_ABSENT, attempt, before)
