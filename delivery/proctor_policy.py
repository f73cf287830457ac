"""What the proctor room offers and shows per attempt status: the actions on each row, the status
labels (with "Connection lost"), and the open attempts as the room counts them.

The services in delivery.attempts and delivery.closing are the authority and refuse anything
else; static/js/proctor.js mirrors these tables.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from delivery.models import Attempt, AttemptStatus
from delivery.notices import lost_since_by_attempt
from exams.models import Sitting

# What the proctor room offers per attempt status. The services are the authority and refuse
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
        Attempt.objects.filter(sitting=sitting, status__in=AttemptStatus.OPEN)
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
