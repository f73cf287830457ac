"""Time given back after an outage.

A student whose connection drops can keep typing (answers wait on the device), but cannot see
new items' pictures, hear audio or be sure their work is kept; a student whose device breaks
loses the time until they are in again on another one. The proctor sees each such loss on the
student's row and gives the time back with one click:

- a connection outage of at least `GIVE_BACK_MIN_SECONDS` while the test is started: the length
  of the outage (from the last heartbeat or the close to the return), from its "connection
  restored" notice;
- a device switch: the gap between the old device's last save and the login on the new one,
  stored on the "switched device" notice.

Both are rounded up to whole minutes, given as added time (audited as `attempt.add_time` with a
reason naming the outage, and as `attempt.time_given_back` naming the notice), and only once per
notice. The rule is in docs/live-sitting.md.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery.attempts import AttemptRefused, attempt_add_time
from delivery.models import Attempt, Notice, NoticeKind
from delivery.notices import format_duration
from exams.models import Sitting
from provplattform.audit import AuditAction, audit_record
from provplattform.errors import NotFound
from provplattform.live import send_on_commit

if TYPE_CHECKING:
    from schools.models import User

# Shorter drops cost the student next to nothing: the client keeps working offline.
GIVE_BACK_MIN_SECONDS = 30
KINDS = (NoticeKind.CONNECTION_RESTORED, NoticeKind.DEVICE_SWITCHED)


def lost_seconds(notice: Notice) -> int:
    data = notice.data or {}
    key = "outage_seconds" if notice.kind == NoticeKind.CONNECTION_RESTORED else "gap_seconds"
    try:
        return max(0, int(data.get(key) or 0))
    except (TypeError, ValueError):
        return 0


def minutes_to_give_back(seconds: int) -> int:
    return max(1, -(-int(seconds) // 60))


def offer_of(notice: Notice) -> dict[str, Any] | None:
    """The row's offer for one notice, or None when nothing is to be given back."""
    seconds = lost_seconds(notice)
    if notice.kind not in KINDS or seconds < GIVE_BACK_MIN_SECONDS:
        return None
    if (notice.data or {}).get("given_back"):
        return None
    return {
        "notice": notice.pk,
        "kind": notice.kind,
        "seconds": seconds,
        "minutes": minutes_to_give_back(seconds),
        "duration": format_duration(seconds),
    }


def offers_by_attempt(*, sitting: Sitting) -> dict[str, list[dict[str, Any]]]:
    """{attempt public id: [offer, …]} for the sitting's outages not yet given back. One query."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    notices = Notice.objects.filter(sitting=sitting, kind__in=KINDS).order_by("at", "id")
    for notice in notices:
        offer = offer_of(notice)
        attempt = (notice.data or {}).get("attempt")
        if offer and attempt:
            found[attempt].append(offer)
    return dict(found)


def attempt_give_back_time(*, actor: User, attempt: Attempt, notice_id: int) -> int:
    """Give back the time an outage or device switch cost the student; the minutes given.

    Invariant: each notice gives its time back at most once; only a notice of this attempt;
    the time goes through `attempt_add_time` (proctor only, a test in progress, audited).
    """
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update()
            .filter(pk=notice_id, sitting_id=attempt.sitting_id, kind__in=KINDS)
            .first()
        )
        if notice is None or (notice.data or {}).get("attempt") != str(attempt.public_id):
            raise NotFound(_("No such outage."))
        if (notice.data or {}).get("given_back"):
            raise AttemptRefused(
                _("The time for this outage has already been given back."), code="given_back"
            )
        seconds = lost_seconds(notice)
        if seconds < GIVE_BACK_MIN_SECONDS:
            raise AttemptRefused(_("This outage was too short to give time back."))
        minutes = minutes_to_give_back(seconds)
        if notice.kind == NoticeKind.DEVICE_SWITCHED:
            reason = _("Time given back: %(minutes)s min lost switching device") % {
                "minutes": minutes
            }
        else:
            reason = _("Time given back: the connection was lost for %(minutes)s min") % {
                "minutes": minutes
            }
        attempt = attempt_add_time(actor=actor, attempt=attempt, minutes=minutes, reason=reason)
        notice.data = {
            **(notice.data or {}),
            "given_back": {"minutes": minutes, "by": actor.pk, "at": timezone.now().isoformat()},
        }
        notice.save(update_fields=["data"])
        audit_record(
            actor=actor,
            action=AuditAction.ATTEMPT_TIME_GIVEN_BACK,
            target=attempt,
            after={
                "notice": notice.pk,
                "kind": notice.kind,
                "seconds": seconds,
                "minutes": minutes,
            },
            reason=reason,
            scope=attempt.sitting.school_unit,
        )
        send_on_commit(
            f"sitting.{attempt.sitting.public_id}",
            {
                "type": "time.given_back",
                "attempt": str(attempt.public_id),
                "notice": notice.pk,
                "minutes": minutes,
            },
        )
        return minutes
