"""Connectivity notices: stored (so a reloaded page shows the history) and pushed live.

Each notice goes to the sitting's proctors (group ``sitting.<sitting>``) and the school unit's IT
staff (group ``unit.<unit>.it``). Room aggregation: when PRESENCE_ROOM_BURST_COUNT students of one
room drop within PRESENCE_ROOM_BURST_WINDOW_S seconds, IT gets one room notice whose count grows
while the burst lasts; the individual notices of the burst still go to the proctors, and are kept
out of IT's list (``data["it_hidden"]``), as are their "restored" notices (the room notice counts
those instead).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from delivery.models import Attempt, AttemptStatus, Notice, NoticeKind
from delivery.presence import Lost, Presence, PresenceUnavailable, get_store
from exams.models import Room, Sitting
from provplattform.live import send_on_commit
from schools.models import SchoolUnit

log = logging.getLogger(__name__)


def sitting_group(sitting_public_id) -> str:
    return f"sitting.{sitting_public_id}"


def it_group(unit_public_id) -> str:
    return f"unit.{unit_public_id}.it"


def _at(ts: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC)


def format_duration(seconds: int) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    return _("%(s)d s") % {"s": secs}


def _notice_name(notice: Notice) -> str:
    """The student's name as the notice recorded it, else as the person is named now."""
    return (notice.data or {}).get("name") or (notice.person.full_name if notice.person_id else "")


def event_text(event: Mapping[str, Any]) -> str:
    """A notice event as a sentence in the active language: the one place these sentences are
    written. Pages show it as given (the history, and the "text" each live event carries)."""
    kind = event.get("kind")
    name = event.get("name") or ""
    if kind == NoticeKind.CONNECTION_LOST:
        return _("%(name)s lost the connection") % {"name": name}
    if kind == NoticeKind.CONNECTION_RESTORED:
        return _("%(name)s is connected again after %(duration)s") % {
            "name": name,
            "duration": format_duration(event.get("outage_seconds") or 0),
        }
    if kind == NoticeKind.ROOM_CONNECTION_LOST:
        count = int(event.get("count") or 0)
        text = ngettext(
            "%(room)s: %(count)d student lost the connection",
            "%(room)s: %(count)d students lost the connection",
            count,
        ) % {"room": event.get("room") or "", "count": count}
        restored = int(event.get("restored") or 0)
        if restored:
            # The room notice counts the returns of the drops it covers while the burst lasts.
            text = _("%(text)s (%(restored)d back)") % {"text": text, "restored": restored}
        return text
    if kind == NoticeKind.DEVICE_SWITCHED:
        return _("%(name)s switched device") % {"name": name or _("A student")}
    if kind == NoticeKind.ARRIVED_AFTER_ABSENT:
        return _("%(name)s arrived after being marked absent") % {"name": name or _("A student")}
    if kind == NoticeKind.SUBMITTED_AT_CLOSING:
        return _("%(name)s's test was submitted when the sitting closed") % {
            "name": name or _("A student")
        }
    if kind in NoticeKind.values:
        return str(NoticeKind(kind).label)
    return str(kind or "")


def notice_text(notice: Notice) -> str:
    """The stored notice as a sentence in the active language."""
    return event_text(notice_payload(notice, name=_notice_name(notice)))


def event_with_text(event: Mapping[str, Any], *, language: str) -> dict[str, Any]:
    """The event with its sentence in `language` (the recipient's): a notice sent to a group
    reaches pages in several languages, so each socket renders it for its own page."""
    with translation.override(language):
        return {**event, "text": event_text(event)}


def notice_payload(notice: Notice, **extra: Any) -> dict[str, Any]:
    data = notice.data or {}
    payload = {
        "type": "notice",
        "id": notice.pk,
        "kind": notice.kind,
        "at": notice.at.isoformat(),
        "attempt": data.get("attempt"),
        "person": data.get("person"),
        "name": data.get("name", ""),
        "room": data.get("room", ""),
        "since": data.get("since"),
        "outage_seconds": data.get("outage_seconds"),
        "count": data.get("count"),
        "restored": data.get("restored"),
        "drop": data.get("drop"),
    }
    payload.update(extra)
    return payload


def _attempt(presence: Presence) -> Attempt | None:
    return (
        Attempt.objects.select_related("person", "sitting__school_unit", "sitting__room")
        .filter(pk=presence.attempt)
        .first()
    )


def _room_aggregate(attempt: Attempt, *, lost: Lost, notice: Notice) -> bool:
    """Count the drop for its room; True when IT hears of it through a room notice instead."""
    store = get_store()
    room = attempt.sitting.room
    unit = attempt.sitting.school_unit
    try:
        mode, count = store.room_drop(
            room.pk,
            drop=lost.drop,
            now=lost.at,
            window=settings.PRESENCE_ROOM_BURST_WINDOW_S,
            threshold=settings.PRESENCE_ROOM_BURST_COUNT,
        )
    except PresenceUnavailable:
        return False
    if mode == "single":
        return False
    if mode == "start":
        room_notice = Notice.objects.create(
            school_unit=unit,
            room=room,
            kind=NoticeKind.ROOM_CONNECTION_LOST,
            data={"room": room.name, "count": count, "restored": 0},
        )
        with contextlib.suppress(PresenceUnavailable):
            store.set_value(
                f"burstnotice:{room.pk}",
                str(room_notice.pk),
                ttl=settings.PRESENCE_ROOM_BURST_WINDOW_S * 4,
            )
        send_on_commit(it_group(unit.public_id), notice_payload(room_notice))
    else:
        try:
            room_notice_id = store.get_value(f"burstnotice:{room.pk}")
        except PresenceUnavailable:
            room_notice_id = None
        room_notice = (
            Notice.objects.select_for_update().filter(pk=room_notice_id).first()
            if room_notice_id
            else None
        )
        if room_notice is not None:
            room_notice.data["count"] = max(int(room_notice.data.get("count", 0)), count)
            room_notice.save(update_fields=["data"])
            send_on_commit(it_group(unit.public_id), notice_payload(room_notice, update=True))
    notice.data["it_hidden"] = True
    if room_notice is not None:
        notice.data["room_notice"] = room_notice.pk
    return True


def notice_connection_lost(
    *, presence: Presence, lost: Lost, silent: bool = False
) -> Notice | None:
    """Store and push "connection lost" for one student; nothing for a finished attempt.

    Called once per drop: the caller has won the drop's claim in the presence store. Written
    again from the outbox (delivery.outbox) after a failure, so a drop already stored is kept.
    """
    with transaction.atomic():
        attempt = _attempt(presence)
        if attempt is None or attempt.status in AttemptStatus.FINISHED:
            return None
        sitting = attempt.sitting
        stored = _drop_notice(attempt, NoticeKind.CONNECTION_LOST, lost.drop)
        if stored is not None:
            return stored
        notice = Notice(
            sitting=sitting,
            school_unit=sitting.school_unit,
            room=sitting.room,
            person=attempt.person,
            kind=NoticeKind.CONNECTION_LOST,
            data=_outage_data(attempt, lost) | {"silent": silent},
        )
        hidden = _room_aggregate(attempt, lost=lost, notice=notice)
        notice.save()
        payload = notice_payload(notice)
        send_on_commit(sitting_group(sitting.public_id), payload)
        if not hidden:
            send_on_commit(it_group(sitting.school_unit.public_id), payload)
        return notice


def _drop_notice(attempt: Attempt, kind: str, drop: str) -> Notice | None:
    return Notice.objects.filter(
        sitting=attempt.sitting, person=attempt.person, kind=kind, data__drop=drop
    ).first()


def _outage_data(attempt, lost: Lost) -> dict:
    """What a lost or restored notice says about whom, where and which drop."""
    return {
        "attempt": str(attempt.public_id),
        "person": str(attempt.person.public_id),
        "name": attempt.person.full_name,
        "room": attempt.sitting.room.name,
        "since": _at(lost.at).isoformat(),
        "drop": lost.drop,
    }


def notice_connection_restored(*, presence: Presence, lost: Lost, now: float) -> Notice | None:
    """Store and push "connection restored" with the outage's length (from the last heartbeat).

    Only for a drop whose "connection lost" is stored: never a return nobody was told of the
    loss of (the outbox writes a drop's loss first). Once per drop.
    """
    with transaction.atomic():
        attempt = _attempt(presence)
        if attempt is None:
            return None
        sitting = attempt.sitting
        lost_notice = _drop_notice(attempt, NoticeKind.CONNECTION_LOST, lost.drop)
        if lost_notice is None:
            log.warning("return from drop %s not announced: its loss was not", lost.drop)
            return None
        stored = _drop_notice(attempt, NoticeKind.CONNECTION_RESTORED, lost.drop)
        if stored is not None:
            return stored
        lost_data = lost_notice.data
        notice = Notice.objects.create(
            sitting=sitting,
            school_unit=sitting.school_unit,
            room=sitting.room,
            person=attempt.person,
            kind=NoticeKind.CONNECTION_RESTORED,
            data=_outage_data(attempt, lost)
            | {
                "outage_seconds": max(0, round(now - lost.at)),
                "it_hidden": bool(lost_data.get("it_hidden")),
            },
        )
        payload = notice_payload(notice)
        send_on_commit(sitting_group(sitting.public_id), payload)
        if not lost_data.get("it_hidden"):
            send_on_commit(it_group(sitting.school_unit.public_id), payload)
        elif lost_data.get("room_notice"):
            room_notice = (
                Notice.objects.select_for_update().filter(pk=lost_data["room_notice"]).first()
            )
            if room_notice is not None:
                room_notice.data["restored"] = int(room_notice.data.get("restored", 0)) + 1
                room_notice.save(update_fields=["data"])
                send_on_commit(
                    it_group(sitting.school_unit.public_id),
                    notice_payload(room_notice, update=True),
                )
        return notice


# --- reads --------------------------------------------------------------------------------------


def notices_for_sitting(*, sitting: Sitting, limit: int = 200) -> list[Notice]:
    """The sitting's history, newest first (the caller has checked access to the sitting)."""
    return list(
        Notice.objects.filter(sitting=sitting)
        .select_related("person")
        .order_by("-at", "-id")[:limit]
    )


def _it_visible(school_unit: SchoolUnit):
    """The unit's notices for IT staff: room notices instead of the individual drops they cover."""
    return Notice.objects.filter(school_unit=school_unit).filter(
        ~Q(data__has_key="it_hidden") | Q(data__it_hidden=False)
    )


def notices_for_it(*, school_unit: SchoolUnit, limit: int = 200) -> list[Notice]:
    """The unit's history for IT staff."""
    return list(_it_visible(school_unit).select_related("person").order_by("-at", "-id")[:limit])


def notices_since(queryset, *, after: int | None, limit: int = 100) -> list[dict[str, Any]]:
    """Notices as the live events carry them (their sentence in the active language), oldest
    first, for a page catching up after its socket was away: those with an id above `after`, or
    the newest `limit` without it. A room notice that grew is sent again by id; pages update it
    in place."""
    queryset = queryset.select_related("person")
    if after is not None:
        found = list(queryset.filter(pk__gt=after).order_by("id")[:limit])
    else:
        found = list(queryset.order_by("-id")[:limit])[::-1]
    return [
        {**payload, "text": event_text(payload)}
        for payload in (notice_payload(n, name=_notice_name(n)) for n in found)
    ]


def sitting_notices_since(*, sitting: Sitting, after: int | None) -> list[dict[str, Any]]:
    """The sitting's notices for its proctors (the caller has checked access to the sitting)."""
    return notices_since(Notice.objects.filter(sitting=sitting), after=after)


def it_notices_since(*, school_unit: SchoolUnit, after: int | None) -> list[dict[str, Any]]:
    """The unit's notices for IT staff, room notices instead of the drops they cover."""
    return notices_since(_it_visible(school_unit), after=after)


def lost_since_by_attempt(*, sitting: Sitting) -> dict[int, datetime.datetime]:
    """Attempt pk -> since when its student is disconnected, from the presence store."""
    try:
        _seen, lost = get_store().snapshot(sitting.school_unit_id)
    except PresenceUnavailable:
        return {}
    found = {}
    for member, at in lost.items():
        p = Presence.parse(member, sitting.school_unit_id)
        if p.sitting == sitting.pk:
            found[p.attempt] = _at(at)
    return found


def connectivity_by_room(*, school_unit: SchoolUnit) -> list[dict[str, Any]] | None:
    """Connected and disconnected devices per room right now; None when the store is down.

    Students whose attempt is finished are not counted as disconnected.
    """
    try:
        seen, lost = get_store().snapshot(school_unit.pk)
    except PresenceUnavailable:
        return None
    rows: dict[int, dict[str, Any]] = {}
    lost_members = [Presence.parse(m, school_unit.pk) for m in lost]
    finished = set(
        Attempt.objects.filter(
            pk__in=[p.attempt for p in lost_members], status__in=AttemptStatus.FINISHED
        ).values_list("pk", flat=True)
    )
    for member in seen:
        p = Presence.parse(member, school_unit.pk)
        rows.setdefault(p.room, {"connected": 0, "disconnected": 0})["connected"] += 1
    for p in lost_members:
        if p.attempt not in finished:
            rows.setdefault(p.room, {"connected": 0, "disconnected": 0})["disconnected"] += 1
    names = dict(
        Room.objects.filter(school_unit=school_unit, pk__in=rows).values_list("pk", "name")
    )
    return sorted(
        (
            {"room": names.get(pk, "?"), "room_id": pk, **counts}
            for pk, counts in rows.items()
            if pk in names
        ),
        key=lambda r: r["room"],
    )


def now_ts() -> float:
    return timezone.now().timestamp()
