"""Presence: who is connected right now, kept in Redis (or in-process when there is no Redis).

Never written to PostgreSQL per heartbeat. The keys, per school unit:

    {prefix}:seen:{unit}   sorted set  member "attempt.sitting.room" -> last heartbeat (epoch s)
    {prefix}:lost:{unit}   hash        member -> {"at": lost since, "drop": drop id}
    {prefix}:conn:{attempt} string     the attempt's current connection id (latest socket wins)
    {prefix}:units         set         units with anything to sweep
    {prefix}:drop:{drop}   string      who claimed a drop: "lost" (announced) or "quiet" (debounced)
    {prefix}:outbox        list        notices of claimed drops not yet in PostgreSQL (oldest first)
    {prefix}:card:{attempt} string     the student's name, room and ids for a notice sent live

A heartbeat is one ZADD. It returns 1 only when the member was missing, i.e. the student comes
back after the sweeper declared a silent drop (or after Redis lost its data): only then does the
caller do more. Every drop has an id; exactly one of "announce the loss" and "it came back before
anyone was told" wins the drop's claim (SET NX), so two sweepers, or a sweeper racing a reconnect,
never double-notify.

When Redis is unreachable every operation raises PresenceUnavailable at once for a second (a small
circuit breaker), so callers degrade without stalling; nothing here ever touches saves or submits.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import math
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

CLAIM_TTL_S = 24 * 3600
# A drop nobody returned from is forgotten after this long: well before its claim expires (an
# expired claim would let the sweeper announce it again), and long after any sitting has ended.
LOST_KEEP_S = CLAIM_TTL_S // 2


class PresenceUnavailable(Exception):
    """The presence store cannot be reached; notices degrade, nothing else is affected."""


@dataclass(frozen=True)
class Presence:
    """Where one socket belongs; encoded in the member string so sweeps need no lookups."""

    attempt: int
    sitting: int
    room: int
    unit: int

    @property
    def member(self) -> str:
        return f"{self.attempt}.{self.sitting}.{self.room}"

    @classmethod
    def of(cls, attempt) -> Presence:
        """The presence of an attempt whose sitting is loaded."""
        sitting = attempt.sitting
        return cls(
            attempt=attempt.pk,
            sitting=sitting.pk,
            room=sitting.room_id,
            unit=sitting.school_unit_id,
        )

    @classmethod
    def parse(cls, member: str | bytes, unit: int) -> Presence:
        if isinstance(member, bytes):
            member = member.decode()
        attempt, sitting, room = (int(x) for x in member.split("."))
        return cls(attempt=attempt, sitting=sitting, room=room, unit=unit)


@dataclass(frozen=True)
class Lost:
    drop: str
    at: float  # epoch seconds: when the student was last known to be connected


def heartbeat_s() -> int:
    return settings.PRESENCE_HEARTBEAT_S


def grace_s() -> int:
    return settings.PRESENCE_GRACE_S


# --- backends -------------------------------------------------------------------------------------


class MemoryBackend:
    """The subset of Redis the presence store uses, in-process and thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {}
        self._expires: dict[str, float] = {}

    def _get(self, key: str, kind: type):
        exp = self._expires.get(key)
        if exp is not None and exp <= time.time():
            self._data.pop(key, None)
            self._expires.pop(key, None)
        value = self._data.get(key)
        if value is None:
            value = kind()
            self._data[key] = value
        return value

    def _clean(self, key: str) -> None:
        if key in self._data and not self._data[key] and not isinstance(self._data[key], str):
            del self._data[key]

    def zadd(self, key: str, mapping: dict[str, float]) -> int:
        with self._lock:
            z = self._get(key, dict)
            added = sum(1 for m in mapping if m not in z)
            z.update(mapping)
            return added

    def zrem(self, key: str, *members: str) -> int:
        with self._lock:
            z = self._get(key, dict)
            n = sum(1 for m in members if z.pop(m, None) is not None)
            self._clean(key)
            return n

    def zscore(self, key: str, member: str) -> float | None:
        with self._lock:
            return self._get(key, dict).get(member)

    def zrangebyscore(self, key: str, low: float, high: float, withscores: bool = False):
        with self._lock:
            z = self._get(key, dict)
            rows = sorted((s, m) for m, s in z.items() if low <= s <= high)
            self._clean(key)
            return [(m, s) for s, m in rows] if withscores else [m for _, m in rows]

    def zremrangebyscore(self, key: str, low: float, high: float) -> int:
        with self._lock:
            z = self._get(key, dict)
            gone = [m for m, s in z.items() if low <= s <= high]
            for m in gone:
                del z[m]
            self._clean(key)
            return len(gone)

    def zcard(self, key: str) -> int:
        with self._lock:
            n = len(self._get(key, dict))
            self._clean(key)
            return n

    def hset(self, key: str, field: str, value: str) -> int:
        with self._lock:
            h = self._get(key, dict)
            new = field not in h
            h[field] = value
            return int(new)

    def hget(self, key: str, field: str) -> str | None:
        with self._lock:
            h = self._get(key, dict)
            value = h.get(field)
            self._clean(key)
            return value

    def hdel(self, key: str, field: str) -> int:
        with self._lock:
            h = self._get(key, dict)
            n = int(h.pop(field, None) is not None)
            self._clean(key)
            return n

    def hgetall(self, key: str) -> dict[str, str]:
        with self._lock:
            h = dict(self._get(key, dict))
            self._clean(key)
            return h

    def sadd(self, key: str, value: str) -> int:
        with self._lock:
            s = self._get(key, set)
            new = value not in s
            s.add(value)
            return int(new)

    def smembers(self, key: str) -> set[str]:
        with self._lock:
            s = set(self._get(key, set))
            self._clean(key)
            return s

    def set(self, key: str, value: str, nx: bool = False, ex: float | None = None):
        with self._lock:
            exp = self._expires.get(key)
            if exp is not None and exp <= time.time():
                self._data.pop(key, None)
                self._expires.pop(key, None)
            if nx and key in self._data:
                return None
            self._data[key] = value
            if ex:
                self._expires[key] = time.time() + ex
            else:
                self._expires.pop(key, None)
            return True

    def get(self, key: str) -> str | None:
        with self._lock:
            exp = self._expires.get(key)
            if exp is not None and exp <= time.time():
                self._data.pop(key, None)
                self._expires.pop(key, None)
            value = self._data.get(key)
            return value if isinstance(value, str) else None

    def mget(self, keys: list[str]) -> list[str | None]:
        return [self.get(k) for k in keys]

    def delete(self, *keys: str) -> int:
        with self._lock:
            n = 0
            for key in keys:
                n += int(self._data.pop(key, None) is not None)
                self._expires.pop(key, None)
            return n

    def incr(self, key: str) -> int:
        with self._lock:
            value = int(self._data.get(key) or 0) + 1
            self._data[key] = str(value)
            return value

    def expire(self, key: str, seconds: float) -> bool:
        with self._lock:
            if key not in self._data:
                return False
            self._expires[key] = time.time() + seconds
            return True

    def rpush(self, key: str, value: str) -> int:
        with self._lock:
            items = self._get(key, list)
            items.append(value)
            return len(items)

    def lrange(self, key: str, start: int, end: int) -> list[str]:
        with self._lock:
            items = list(self._get(key, list))
            self._clean(key)
            return items[start : None if end == -1 else end + 1]

    def lrem(self, key: str, count: int, value: str) -> int:
        with self._lock:
            items = self._get(key, list)
            if value in items:
                items.remove(value)
                self._clean(key)
                return 1
            return 0

    def keys(self, pattern: str) -> list[str]:
        with self._lock:
            return [k for k in self._data if fnmatch.fnmatchcase(k, pattern)]


class RedisBackend:
    """Redis with short timeouts and a one-second circuit breaker after a failure."""

    BREAK_S = 1.0

    def __init__(self, url: str) -> None:
        import redis  # noqa: PLC0415 - optional: only with a Redis presence store

        self._redis = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=0.5,
            socket_connect_timeout=0.5,
            health_check_interval=10,
        )
        self._errors = (redis.ConnectionError, redis.TimeoutError, OSError)
        self._down_until = 0.0

    def __getattr__(self, name: str):
        method = getattr(self._redis, name)

        def call(*args, **kwargs):
            if time.monotonic() < self._down_until:
                raise PresenceUnavailable("presence store unavailable")
            try:
                return method(*args, **kwargs)
            except self._errors as exc:
                self._down_until = time.monotonic() + self.BREAK_S
                log.warning("presence store unavailable: %s", exc.__class__.__name__)
                raise PresenceUnavailable(str(exc)) from exc

        return call


# --- the store ---------------------------------------------------------------------------------


class PresenceStore:
    def __init__(self, backend, prefix: str) -> None:
        self.backend = backend
        self.prefix = prefix

    def _k(self, *parts: object) -> str:
        return ":".join([self.prefix, *(str(p) for p in parts)])

    # connections

    def connect(self, p: Presence, *, conn: str, now: float) -> Lost | None:
        """A socket opened: it becomes the attempt's current one. Returns an open drop, if any."""
        b = self.backend
        b.set(self._k("conn", p.attempt), conn, ex=CLAIM_TTL_S)
        b.sadd(self._k("units"), str(p.unit))
        b.zadd(self._k("seen", p.unit), {p.member: now})
        return self._pop_lost(p)

    def heartbeat(self, p: Presence, *, now: float) -> Lost | None:
        """One write. Only a student coming back from a silent drop costs more."""
        if not self.backend.zadd(self._k("seen", p.unit), {p.member: now}):
            return None
        self.backend.sadd(self._k("units"), str(p.unit))
        return self._pop_lost(p)

    def close(self, p: Presence, *, conn: str, now: float) -> Lost | None:
        """A socket closed. Only the attempt's current connection counts as a drop."""
        b = self.backend
        if b.get(self._k("conn", p.attempt)) != conn:
            return None
        if not b.zrem(self._k("seen", p.unit), p.member):
            return None  # already declared lost by a sweep
        return self._mark_lost(p, at=now)

    def forget(self, p: Presence, *, conn: str | None = None) -> None:
        """Remove without a notice (submitted, absent, device replaced)."""
        b = self.backend
        if conn is not None and b.get(self._k("conn", p.attempt)) != conn:
            return
        b.zrem(self._k("seen", p.unit), p.member)
        b.hdel(self._k("lost", p.unit), p.member)

    def _mark_lost(self, p: Presence, *, at: float) -> Lost:
        lost = Lost(drop=f"{p.attempt}-{uuid.uuid4().hex[:12]}", at=at)
        self.backend.hset(
            self._k("lost", p.unit), p.member, json.dumps({"at": at, "drop": lost.drop})
        )
        return lost

    def _pop_lost(self, p: Presence) -> Lost | None:
        key = self._k("lost", p.unit)
        raw = self.backend.hget(key, p.member)
        if raw is None or not self.backend.hdel(key, p.member):
            return None
        data = json.loads(raw)
        return Lost(drop=data["drop"], at=float(data["at"]))

    # sweeping

    def units(self) -> list[int]:
        return sorted(int(u) for u in self.backend.smembers(self._k("units")))

    def declare_silent(self, unit: int, *, before: float) -> list[tuple[Presence, Lost]]:
        """Members silent since `before` become drops; ZREM decides which sweeper owns each."""
        key = self._k("seen", unit)
        found = []
        for member, last in self.backend.zrangebyscore(key, float("-inf"), before, withscores=True):
            if self.backend.zrem(key, member):
                p = Presence.parse(member, unit)
                found.append((p, self._mark_lost(p, at=float(last))))
        return found

    def open_drops(
        self, unit: int, *, before: float, forget_before: float | None = None
    ) -> list[tuple[Presence, Lost]]:
        """Drops older than `before` that nobody has claimed (e.g. the closing process died).

        Drops older than `forget_before` are removed instead (see LOST_KEEP_S).
        """
        key = self._k("lost", unit)
        rows = []
        for member, raw in self.backend.hgetall(key).items():
            data = json.loads(raw)
            at = float(data["at"])
            if forget_before is not None and at <= forget_before:
                self.backend.hdel(key, member)
            elif at <= before:
                rows.append((Presence.parse(member, unit), Lost(data["drop"], at)))
        if not rows:
            return []
        claims = self.backend.mget([self._k("drop", lost.drop) for _, lost in rows])
        return [row for row, claim in zip(rows, claims, strict=True) if claim is None]

    def claim(self, drop: str, what: str) -> bool:
        """The first claim of a drop wins: "lost" announces it, "quiet" suppresses it."""
        return bool(self.backend.set(self._k("drop", drop), what, nx=True, ex=CLAIM_TTL_S))

    # the notice outbox: a claimed drop's notices wait here until the database has them

    def outbox_push(self, entry: dict) -> None:
        self.backend.rpush(self._k("outbox"), json.dumps(entry, sort_keys=True))

    def outbox_head(self, count: int) -> list[str]:
        return self.backend.lrange(self._k("outbox"), 0, count - 1)

    def outbox_done(self, raw: str) -> None:
        self.backend.lrem(self._k("outbox"), 1, raw)

    def outbox_lock(self, token: str, *, ttl: float) -> bool:
        return bool(self.backend.set(self._k("outbox:lock"), token, nx=True, ex=ttl))

    def outbox_unlock(self, token: str) -> None:
        if self.backend.get(self._k("outbox:lock")) == token:
            self.backend.delete(self._k("outbox:lock"))

    def first_time(self, key: str) -> bool:
        """True once per key (for a day): e.g. a notice sent live while the database is away."""
        return bool(self.backend.set(self._k("once", key), "1", nx=True, ex=CLAIM_TTL_S))

    # what a notice says about a student, kept so that it can be sent without the database

    def card_set(self, attempt: int, card: dict) -> None:
        self.backend.set(self._k("card", attempt), json.dumps(card), ex=CLAIM_TTL_S)

    def card_get(self, attempt: int) -> dict | None:
        raw = self.backend.get(self._k("card", attempt))
        return json.loads(raw) if raw else None

    # room aggregation

    def room_drop(self, room: int, *, drop: str, now: float, window: float, threshold: int):
        """Count a drop in the room. Returns (mode, count): "single" below the threshold,
        "start" for the one drop that starts a burst, "join" for drops during a burst."""
        b = self.backend
        window = max(1, math.ceil(window))
        key = self._k("roomdrops", room)
        b.zadd(key, {drop: now})
        b.zremrangebyscore(key, float("-inf"), now - window)
        b.expire(key, window * 2)
        count = b.zcard(key)
        burst = self._k("burst", room)
        if b.get(burst) is not None:
            total = b.incr(self._k("burstcount", room))
            b.expire(burst, window)
            b.expire(self._k("burstcount", room), window * 4)
            return "join", total
        if count < threshold:
            return "single", count
        if b.set(burst, "1", nx=True, ex=window):
            b.set(self._k("burstcount", room), str(count), ex=window * 4)
            return "start", count
        return "join", b.incr(self._k("burstcount", room))

    def set_value(self, key: str, value: str, *, ttl: float) -> None:
        self.backend.set(self._k(key), value, ex=max(1, math.ceil(ttl)))

    def get_value(self, key: str) -> str | None:
        return self.backend.get(self._k(key))

    # reading

    def snapshot(self, unit: int) -> tuple[dict[str, float], dict[str, float]]:
        """(connected member -> last seen, lost member -> lost since) for one unit."""
        seen = dict(
            self.backend.zrangebyscore(
                self._k("seen", unit), float("-inf"), float("inf"), withscores=True
            )
        )
        lost = {
            m: float(json.loads(raw)["at"])
            for m, raw in self.backend.hgetall(self._k("lost", unit)).items()
        }
        return seen, lost


_store: PresenceStore | None = None
_store_lock = threading.Lock()


def get_store() -> PresenceStore:
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                url = settings.PRESENCE_REDIS_URL
                backend = RedisBackend(url) if url else MemoryBackend()
                _store = PresenceStore(backend, settings.PRESENCE_KEY_PREFIX)
    return _store


def set_store(store: PresenceStore | None) -> None:
    """Replace the process's store (tests; a benchmark pointing at its own Redis)."""
    global _store
    _store = store


def forget_finished(p: Presence) -> None:
    """A finished attempt is nobody's drop any more: its presence goes (best effort; should
    the store be down, the sweeper forgets the drop after LOST_KEEP_S)."""
    try:
        get_store().forget(p)
    except PresenceUnavailable:
        log.info("presence of finished attempt %s left to the sweeper", p.attempt)


def new_conn_id() -> str:
    return uuid.uuid4().hex
