"""What the proctor room, the student's page and the IT page are told about attempts: the live
events' payloads, sent after commit, and the proctors' notices about one student.

The services in delivery.attempts, delivery.closing and delivery.devices call these inside their
transaction; nothing is sent if it rolls back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from delivery.models import Attempt, AttemptStatus, Notice
from delivery.notices import notice_payload
from delivery.presence import Presence, forget_finished
from exams.models import Sitting
from provplattform.live import send_on_commit


def attempt_event(attempt: Attempt) -> dict[str, Any]:
    return {
        "type": "attempt.changed",
        "attempt": str(attempt.public_id),
        "person": str(attempt.person.public_id),
        "status": attempt.status,
        "deadline": attempt.deadline.isoformat() if attempt.deadline else None,
        "released": attempt.released_at is not None,
    }


def attempt_announce(attempt: Attempt) -> None:
    """The attempt changed: tell the proctor room and the student's page."""
    send_on_commit(f"sitting.{attempt.sitting.public_id}", attempt_event(attempt))
    send_on_commit(f"attempt.{attempt.public_id}", attempt_event(attempt))
    if attempt.status in AttemptStatus.FINISHED:
        # A student who left before finishing would otherwise stay "lost" in the presence store.
        presence = Presence.of(attempt)
        transaction.on_commit(lambda: forget_finished(presence))


def login_announce(attempt: Attempt) -> None:
    """The proctor room follows logins; the student's own device needs no echo."""
    send_on_commit(f"sitting.{attempt.sitting.public_id}", attempt_event(attempt))


def device_switch_announce(attempt: Attempt, *, notice: Notice, old_token: str, gap: int) -> None:
    """The old device is told it was replaced; the proctors get the switch's notice."""
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


def proctor_notice(attempt: Attempt, kind: str) -> None:
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


def sitting_announce(sitting: Sitting) -> None:
    """The sitting's status changed (it ended): the proctor room reloads its state."""
    send_on_commit(
        f"sitting.{sitting.public_id}",
        {
            "type": "sitting.changed",
            "sitting": str(sitting.public_id),
            "status": sitting.status,
        },
    )
