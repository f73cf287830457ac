"""Every claimed drop is announced, even while PostgreSQL is away.

A drop's fate is decided by its claim in the presence store (delivery.presence). Whoever wins
"lost" (or loses "quiet" to an announced loss, for "restored") does not write the notice
itself: it appends it to an outbox in the same store (a Redis list, oldest first) and then
drains the outbox, which writes notices to PostgreSQL in order and removes each one only after
its transaction has committed. Should the database be away, draining stops at the first notice
it cannot write and the rest wait; the sweeper drains every half second, so the notices are
written within a sweep of the database's return, in the order the drops happened. Meanwhile
each waiting notice is sent live once, from Redis alone (the student's name, room and ids are
kept in the store when the socket opens), so proctors still hear of a drop during the outage.

At least once: a notice written whose removal from the outbox failed is written again; the
notice functions skip a drop's notice that is already stored. A "restored" is written only when
its drop's "lost" is stored (delivery.notices.notice_connection_restored), and the outbox keeps
a drop's "lost" before its "restored", so a "restored" without a "lost" never happens.
Without the presence store (Redis down) there is no claim and no outbox: notices are written
directly, as before.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import time
import uuid

from django.db import InterfaceError, OperationalError

from delivery import notices
from delivery.presence import Lost, Presence, PresenceUnavailable, get_store
from provplattform.live import send_now
from provplattform.logs import warn_every

log = logging.getLogger(__name__)

LOST = "lost"
RESTORED = "restored"
DRAIN_BATCH = 200
# A drainer that died holding the lock lets the next one in after this long.
LOCK_TTL_S = 30
# A drainer keeps going while notices keep coming for at most this long; the sweeper does the rest.
DRAIN_BUDGET_S = 2.0
DB_ERRORS = (OperationalError, InterfaceError)


def _entry(kind: str, presence: Presence, lost: Lost, *, now: float | None, silent: bool) -> dict:
    return {
        "kind": kind,
        "presence": [presence.attempt, presence.sitting, presence.room, presence.unit],
        "drop": lost.drop,
        "at": lost.at,
        "now": now,
        "silent": silent,
    }


def _parse(entry: dict) -> tuple[Presence, Lost]:
    attempt, sitting, room, unit = entry["presence"]
    return (
        Presence(attempt=attempt, sitting=sitting, room=room, unit=unit),
        Lost(drop=entry["drop"], at=float(entry["at"])),
    )


def _write(entry: dict) -> None:
    presence, lost = _parse(entry)
    if entry["kind"] == LOST:
        notice = notices.notice_connection_lost(
            presence=presence, lost=lost, silent=bool(entry.get("silent"))
        )
        if notice is None:
            # The attempt is finished: nothing to keep for a return that will not be reported.
            with contextlib.suppress(PresenceUnavailable):
                get_store().forget(presence)
    else:
        notices.notice_connection_restored(presence=presence, lost=lost, now=float(entry["now"]))


def drop_announce(
    *,
    kind: str,
    presence: Presence,
    lost: Lost,
    now: float | None = None,
    silent: bool = False,
) -> None:
    """Queue the notice of a claimed drop and write whatever the database takes now."""
    entry = _entry(kind, presence, lost, now=now, silent=silent)
    try:
        get_store().outbox_push(entry)
    except PresenceUnavailable:
        _write(entry)  # no store, no outbox: straight to the database
        return
    outbox_drain()


def outbox_drain(*, limit: int = DRAIN_BATCH) -> int:
    """Write waiting notices in order; stop at the first the database does not take. Returns
    how many were written. One drainer at a time (a lock in the store), so order holds across
    processes; the drainer goes on while notices keep coming (a room dropping at once), and
    looks once more after unlocking, so a notice queued meanwhile does not wait for the sweeper.
    Never raises."""
    store = get_store()
    written = 0
    until = time.monotonic() + DRAIN_BUDGET_S
    while time.monotonic() < until:
        token = uuid.uuid4().hex
        try:
            if not store.outbox_lock(token, ttl=LOCK_TTL_S):
                return written
        except PresenceUnavailable:
            return written
        try:
            done, blocked = _drain_locked(store, limit)
            written += done
        except PresenceUnavailable:
            return written
        finally:
            with contextlib.suppress(PresenceUnavailable):
                store.outbox_unlock(token)
        try:
            if blocked or not store.outbox_head(1):
                return written
        except PresenceUnavailable:
            return written
    return written


def _drain_locked(store, limit: int) -> tuple[int, bool]:
    """(notices written, whether the database stopped the drain)."""
    written = 0
    while waiting := store.outbox_head(limit):
        for position, raw in enumerate(waiting):
            entry = json.loads(raw)
            try:
                _write(entry)
            except DB_ERRORS as exc:
                warn_every(
                    log,
                    "outbox-db",
                    "database unavailable: %d connectivity notices wait in the outbox (%s)",
                    len(waiting) - position,
                    type(exc).__name__,
                )
                for later in waiting[position:]:
                    _send_live_once(store, json.loads(later))
                return written, True
            except Exception:
                # A notice that can never be written (a bug) must not hold up the others.
                log.exception("connectivity notice for drop %s left out", entry.get("drop"))
            store.outbox_done(raw)
            written += 1
    return written, False


def _send_live_once(store, entry: dict) -> None:
    """While the database is away: the notice live, from what the store knows, once."""
    presence, lost = _parse(entry)
    card = store.card_get(presence.attempt)
    if card is None or not store.first_time(f"live:{entry['kind']}:{lost.drop}"):
        return
    now = float(entry["now"] or lost.at)
    restored = entry["kind"] == RESTORED
    payload = {
        "type": "notice",
        "id": None,
        "kind": "connection_restored" if restored else "connection_lost",
        "at": datetime.datetime.fromtimestamp(now, tz=datetime.UTC).isoformat(),
        "attempt": card["attempt"],
        "person": card["person"],
        "name": card["name"],
        "room": card["room"],
        "since": datetime.datetime.fromtimestamp(lost.at, tz=datetime.UTC).isoformat(),
        "outage_seconds": max(0, round(now - lost.at)) if restored else None,
        "count": None,
        "restored": None,
        "drop": lost.drop,
        "pending": True,
    }
    send_now(notices.sitting_group(card["sitting"]), payload)
    send_now(notices.it_group(card["unit"]), payload)


def student_card(attempt) -> dict:
    """What a live notice says about the student (attempt with person, sitting, room, unit)."""
    sitting = attempt.sitting
    return {
        "attempt": str(attempt.public_id),
        "person": str(attempt.person.public_id),
        "name": attempt.person.full_name,
        "room": sitting.room.name,
        "sitting": str(sitting.public_id),
        "unit": str(sitting.school_unit.public_id),
    }
