"""The sweeper: silent-drop detection and automatic submit, every half second.

`sweep_once` is the whole job. It runs
- inside `manage.py serve` as an asyncio background loop (the embedded default: `make demo` needs
  nothing else), every PRESENCE_SWEEP_INTERVAL_S (0.5 s);
- as `manage.py presence_sweeper`, a standalone loop at the same interval (docker-compose's
  `sweeper` service, and the benchmark);
- as the Celery beat task `delivery.sweeper.presence_sweep` every 2 s, a fallback in docker-compose.
Several sweepers may run at once: every drop is claimed once in the presence store, so nobody is
told twice. A presence store outage skips the presence part; automatic submit still runs, as does
the submit of every attempt still open when its sitting closes (paused ones included).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, close_old_connections

from delivery import outbox
from delivery.closing import attempts_auto_submit_due, attempts_submit_at_closing
from delivery.presence import LOST_KEEP_S, PresenceUnavailable, get_store
from provplattform.logs import warn_every

log = logging.getLogger(__name__)

STAMP_KEY = "delivery:sweeper:last"
# A close whose closing process died before announcing it is announced after this much extra time.
ORPHAN_AFTER_S = 2.0
# Submitting at a sitting's closing needs no half-second precision: it is checked this often.
CLOSING_CHECK_INTERVAL_S = 5.0
_last_closing_check: float | None = None


def _ts(now: datetime.datetime | None) -> float:
    return now.timestamp() if now is not None else time.time()


def sweep_presence(*, now: float) -> dict[str, int]:
    store = get_store()
    silent_before = now - settings.PRESENCE_HEARTBEAT_S - settings.PRESENCE_GRACE_S
    orphan_before = now - settings.PRESENCE_CLOSE_HOLD_S - ORPHAN_AFTER_S
    stats = {"silent": 0, "orphaned": 0}
    # Notices that waited for the database first, so that they keep their order.
    stats["written_late"] = outbox.outbox_drain()
    for unit in store.units():
        for presence, lost in store.declare_silent(unit, before=silent_before):
            if store.claim(lost.drop, "lost"):
                _announce(store, presence, lost, silent=True)
                stats["silent"] += 1
        for presence, lost in store.open_drops(
            unit, before=orphan_before, forget_before=now - LOST_KEEP_S
        ):
            if store.claim(lost.drop, "lost"):
                _announce(store, presence, lost, silent=False)
                stats["orphaned"] += 1
    return stats


def _announce(store, presence, lost, *, silent: bool) -> None:
    # Through the outbox: written now, or once the database is back (delivery.outbox).
    outbox.drop_announce(kind=outbox.LOST, presence=presence, lost=lost, silent=silent)


def sweep_once(now: datetime.datetime | None = None, *, mode: str = "in-process") -> dict:
    """Detect silent drops, announce orphaned closes, submit attempts that are due and those
    still open when their sitting closes."""
    ts = _ts(now)
    result: dict = {
        "silent": 0,
        "orphaned": 0,
        "auto_submitted": 0,
        "closing_submitted": 0,
        "presence": "ok",
    }
    try:
        result.update(sweep_presence(now=ts))
    except PresenceUnavailable:
        result["presence"] = "unavailable"
    except Exception:
        log.exception("presence sweep failed")
        result["presence"] = "failed"
    try:
        result["auto_submitted"] = attempts_auto_submit_due(now=now)
    except (OperationalError, InterfaceError) as exc:
        # The database is away: the next sweep tries again (one line, not a traceback per sweep).
        warn_every(
            log, "submit-db", "automatic submit waits for the database: %s", type(exc).__name__
        )
    except Exception:
        log.exception("automatic submit failed")
    global _last_closing_check
    if _last_closing_check is None or not 0 <= ts - _last_closing_check < CLOSING_CHECK_INTERVAL_S:
        _last_closing_check = ts
        try:
            result["closing_submitted"] = attempts_submit_at_closing(now=now)
        except (OperationalError, InterfaceError) as exc:
            # As the automatic submit: one line while the database is away, the next check retries.
            _last_closing_check = None
            waits = "submit at closing waits for the database: %s"
            warn_every(log, "closing-db", waits, type(exc).__name__)
        except Exception:
            log.exception("submit at closing failed")
    try:
        cache.set(STAMP_KEY, {"at": time.time(), "mode": mode}, timeout=3600)
    except Exception as exc:
        # Redis away: the status page shows the workers as stale; one line every few seconds.
        warn_every(log, "sweeper-stamp", "sweeper stamp not written: %s", type(exc).__name__)
    return result


def last_run() -> dict | None:
    try:
        return cache.get(STAMP_KEY)
    except Exception:
        return None


@shared_task(name="delivery.sweeper.presence_sweep", ignore_result=True)
def presence_sweep() -> dict:
    """Celery beat, every 2 s (CELERY_BEAT_SCHEDULE["delivery-presence-sweep"])."""
    return sweep_once(mode="celery")


async def run_forever(interval: float | None = None, *, mode: str = "in-process") -> None:
    """Background loop for `manage.py serve`: never raises, never blocks the event loop."""
    interval = interval or settings.PRESENCE_SWEEP_INTERVAL_S

    def once():
        close_old_connections()
        try:
            return sweep_once(mode=mode)
        finally:
            close_old_connections()

    while True:
        started = time.monotonic()
        try:
            await asyncio.to_thread(once)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sweep failed")
        await asyncio.sleep(max(0.05, interval - (time.monotonic() - started)))
