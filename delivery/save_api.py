"""The autosave path: POST /api/v1/delivery/attempts/<attempt>/saves.

On PostgreSQL a small ASGI route in front of Django answers it: one pooled async connection
(psycopg_pool), one upsert statement that also checks the device and the deadline, no middleware
and no thread hop per request. The answer is sent only after that statement has committed. On
SQLite (the embedded default) the same URL is a plain Django view using the ORM path in
delivery.saves.responses_save; both apply the same rule:

* the device token (sent in the X-Device-Token header, never a cookie) must be the attempt's
  current one, else 409 device_replaced and nothing acknowledged;
* a save replaces the stored content only if its sequence number is newer;
* after the deadline only saves made before it are accepted, within the grace window, marked late
  (delivery.timer.save_verdict); anything else is 409 and stays in the client's storage.
The rule, its order and the answers are delivery.save_rule's; both paths answer through it.
When the database does not answer within about a second the save is answered 503 with
Retry-After; the client keeps it and retries as it does offline.

Request body: {"saves": [{"item": uuid, "seq": int, "content": any, "flagged": bool,
"client_saved_at": iso8601}]}. Answer: {"acked": [{"item", "seq"}], "server_time"} or, with 409,
{"error": reason, "acked": [...]}. A save whose sequence the server already holds or exceeds is
acknowledged: the server has that answer or a newer one.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import re
import uuid
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from delivery import save_rule
from delivery.devices import device_token_was_issued
from delivery.saves import responses_save
from provplattform.inputs import loads_json
from provplattform.logs import warn_every
from provplattform.sync_http import http_bridge

log = logging.getLogger(__name__)

SAVE_PATH = re.compile(r"^/api/v1/delivery/attempts/([0-9a-fA-F-]{36})/saves/?$")
MAX_BODY = 512 * 1024
MAX_SAVES = 200
RETRY_AFTER_S = b"1"


class BadSave(ValueError):
    pass


def parse_saves(body: bytes) -> list[save_rule.Save]:
    try:
        data = loads_json(body or b"{}")
        raw = data["saves"]
        if not isinstance(raw, list) or len(raw) > MAX_SAVES:
            raise BadSave(f"saves must be a list of at most {MAX_SAVES}")
        saves = []
        for entry in raw:
            item = str(uuid.UUID(str(entry["item"])))
            seq = int(entry["seq"])
            if seq < 1 or seq > 2**62:
                raise BadSave("seq out of range")
            client_saved_at = None
            if entry.get("client_saved_at"):
                client_saved_at = parse_datetime(str(entry["client_saved_at"]))
                if client_saved_at is None or timezone.is_naive(client_saved_at):
                    raise BadSave("client_saved_at must be an ISO time with a zone")
            saves.append(
                save_rule.Save(
                    item=item,
                    seq=seq,
                    content=entry.get("content"),
                    flagged=bool(entry.get("flagged", False)),
                    client_saved_at=client_saved_at,
                )
            )
        return save_rule.newest_per_item(saves)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # JSONRefused is a ValueError
        raise BadSave(str(exc)) from exc


# A random attempt id and an attempt the token was never issued for answer exactly this.
NOT_FOUND: dict[str, Any] = {"error": "not_found", "acked": []}


# --- ORM path (SQLite, and anything not served by the ASGI route) -------------------------------


@csrf_exempt  # authenticated by the device token header, which a cross-site form cannot send
@require_POST
def save_view(request: HttpRequest, attempt: uuid.UUID) -> JsonResponse:
    try:
        saves = parse_saves(request.body)
    except BadSave as exc:
        return JsonResponse({"error": "bad_request", "detail": str(exc)}, status=400)
    try:
        result = responses_save(
            attempt_public_id=attempt,
            device_token=request.headers.get("X-Device-Token", ""),
            saves=saves,
        )
    except (OperationalError, InterfaceError) as exc:
        _warn_unavailable(exc)
        response = JsonResponse({"error": "unavailable"}, status=503)
        response["Retry-After"] = RETRY_AFTER_S.decode()
        return response
    if result.refused == "not_found":
        return JsonResponse(NOT_FOUND, status=404)
    body: dict[str, Any] = {"acked": result.acked, "server_time": timezone.now().isoformat()}
    if result.refused:
        body["error"] = result.refused
    return JsonResponse(body, status=result.http_status)


# --- PostgreSQL fast path -----------------------------------------------------------------------

# One statement gathers the facts delivery.save_rule decides on and upserts the saves it stores:
# the attempt (locked FOR SHARE, so a device switch cannot interleave), each save's item and
# verdict under the late-delivery rule (delivery.timer.save_verdict in SQL), and the upsert of
# those saves only when the attempt takes saves at all.
_SAVE = """
WITH a AS (
    SELECT at.id, at.status, at.deadline,
           (%(device)s <> '' AND at.device_token = %(device)s) AS same_device,
           s.subtest_id
    FROM delivery_attempt at JOIN exams_sitting s ON s.id = at.sitting_id
    WHERE at.public_id = %(attempt)s
    FOR SHARE OF at
),
v AS (
    SELECT v.item, v.seq, v.content, v.flagged, v.client_ts, i.id AS item_id,
           coalesce(a.status = 'paused' OR now() <= a.deadline
                    OR (v.client_ts <= a.deadline
                        AND now() <= a.deadline + make_interval(secs => %(grace)s)),
                    false) AS in_time
    FROM a
    CROSS JOIN unnest(%(items)s::uuid[], %(seqs)s::bigint[], %(contents)s::text[],
                      %(flags)s::boolean[], %(cts)s::timestamptz[])
         AS v(item, seq, content, flagged, client_ts)
    LEFT JOIN exams_item i ON i.public_id = v.item AND i.subtest_id = a.subtest_id
),
stored AS (
    INSERT INTO delivery_response
        (attempt_id, item_id, content, seq, flagged, client_saved_at, server_saved_at, late)
    SELECT a.id, v.item_id, v.content::jsonb, v.seq, v.flagged, v.client_ts, now(),
           (a.status = 'working' AND now() > a.deadline)
    FROM a JOIN v ON true
    WHERE a.same_device AND a.status IN ('working', 'paused')
      AND v.item_id IS NOT NULL AND v.in_time
    ON CONFLICT (attempt_id, item_id) DO UPDATE SET
        content = EXCLUDED.content, seq = EXCLUDED.seq, flagged = EXCLUDED.flagged,
        client_saved_at = EXCLUDED.client_saved_at, server_saved_at = EXCLUDED.server_saved_at,
        late = EXCLUDED.late
    WHERE delivery_response.seq < EXCLUDED.seq
    RETURNING 1
)
SELECT a.status, a.same_device, v.item::text, v.item_id IS NOT NULL, v.in_time
FROM a LEFT JOIN v ON true
"""

_pools: dict[int, Any] = {}
_pool_lock: asyncio.Lock | None = None
# Reconnect attempts after the database went away: every quarter second, never backing off, so
# the first save after its return waits well under a second (the pool's own backoff doubles from
# 1 s to minutes: after a 20 s outage the next attempt could come 8 s after the return).
RECONNECT_EVERY_S = 0.25


class DatabaseUnavailable(Exception):
    """The database did not answer a save in time; the save is answered 503 and retried."""


def _conninfo() -> str:
    db = settings.DATABASES["default"]
    from psycopg.conninfo import make_conninfo  # noqa: PLC0415 - optional: PostgreSQL only

    return make_conninfo(
        dbname=db.get("NAME") or "",
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=str(db.get("PORT") or "") or None,
        application_name="provplattform-save",
        connect_timeout=2,
    )


def _pool_class():
    from psycopg_pool import AsyncConnectionPool  # noqa: PLC0415 - optional: PostgreSQL only
    from psycopg_pool.base import AttemptWithBackoff  # noqa: PLC0415 - optional: PostgreSQL only

    class SteadyRetry(AttemptWithBackoff):
        INITIAL_DELAY = RECONNECT_EVERY_S
        DELAY_JITTER = 0.2
        DELAY_BACKOFF = 1.0

    class SavePool(AsyncConnectionPool):
        """Checks each connection before handing it out (a restart kills pooled connections)
        and reconnects at a steady pace."""

        async def _add_connection(self, attempt, growing: bool = False) -> None:
            if attempt is None:
                attempt = SteadyRetry(timeout=self.reconnect_timeout)
            await super()._add_connection(attempt, growing=growing)

    return SavePool


async def _pool():
    """One pool per event loop (a web process has one; tests may run several loops)."""
    global _pool_lock
    loop = asyncio.get_running_loop()
    pool = _pools.get(id(loop))
    if pool is not None:
        return pool
    if _pool_lock is None or _pool_lock._loop not in (None, loop):  # type: ignore[attr-defined]
        _pool_lock = asyncio.Lock()
    async with _pool_lock:
        pool = _pools.get(id(loop))
        if pool is None:
            pool_class = _pool_class()
            pool = pool_class(
                _conninfo(),
                min_size=1,
                max_size=settings.DELIVERY_SAVE_POOL_SIZE,
                kwargs={"autocommit": True},
                check=pool_class.check_connection,
                timeout=settings.DELIVERY_SAVE_DB_WAIT_S,
                open=False,
            )
            await pool.open(wait=False)
            _pools[id(loop)] = pool
    return pool


async def pool():
    """This process's pool for the routes answered in front of Django: the autosave here, and a
    higher layer's (grading's score save), which share its connections."""
    return await _pool()


async def pools_close() -> None:
    for key, pool in list(_pools.items()):
        await pool.close(timeout=1.0)
        _pools.pop(key, None)


def _warn_unavailable(exc: BaseException) -> None:
    warn_every(
        log, "save-db", "database unavailable for saves (answered 503): %s", type(exc).__name__
    )


async def _run(sql: str, params: dict[str, Any]) -> list[tuple]:
    """Run one statement on a pooled connection; DatabaseUnavailable when the database does not
    answer: no connection within DELIVERY_SAVE_DB_WAIT_S, a connection lost, a statement that
    outlasts DELIVERY_SAVE_STATEMENT_S."""
    import psycopg  # noqa: PLC0415 - optional: PostgreSQL only
    from psycopg_pool import PoolTimeout  # noqa: PLC0415 - optional: PostgreSQL only

    pool = await _pool()
    try:
        async with asyncio.timeout(settings.DELIVERY_SAVE_STATEMENT_S):
            async with pool.connection() as conn:
                cur = await conn.execute(sql, params)
                return await cur.fetchall()
    except (PoolTimeout, TimeoutError, psycopg.OperationalError, psycopg.InterfaceError) as exc:
        _warn_unavailable(exc)
        raise DatabaseUnavailable(str(exc)) from exc


async def save_fast(
    *, attempt: str, device: str, saves: list[save_rule.Save]
) -> tuple[int, dict[str, Any]]:
    """Apply the saves in one autocommitted statement; (HTTP status, body) by delivery.save_rule.

    Raises DatabaseUnavailable when the database cannot be reached within about a second.
    """
    now = datetime.datetime.now(datetime.UTC)
    # Even an empty batch goes through the rule: it answers for the attempt and the token as the
    # ORM path does (the statement then stores nothing).
    params = {
        "attempt": attempt,
        "device": device,
        "items": [s.item for s in saves],
        "seqs": [s.seq for s in saves],
        "contents": [json.dumps(s.content) for s in saves],
        "flags": [s.flagged for s in saves],
        "cts": [s.client_saved_at for s in saves],
        "grace": settings.DELIVERY_LATE_GRACE_S,
    }
    rows = await _run(_SAVE, params)
    if not rows:
        return 404, NOT_FOUND
    status, same_device = rows[0][0], rows[0][1]
    refused = save_rule.attempt_refusal(
        found=True,
        same_device=same_device,
        status=status,
        token_issued=same_device
        or device_token_was_issued(attempt_public_id=attempt, token=device),
    )
    if refused == "not_found":
        return 404, NOT_FOUND
    outcomes = []
    if not refused:
        facts = {row[2]: (row[3], row[4]) for row in rows if row[2] is not None}
        outcomes = [
            (s, save_rule.save_outcome(known_item=facts[s.item][0], in_time=facts[s.item][1]))
            for s in saves
        ]
    result = save_rule.save_answer(refused=refused, outcomes=outcomes)
    body: dict[str, Any] = {"acked": result.acked, "server_time": now.isoformat()}
    if result.refused:
        body["error"] = result.refused
    return result.http_status, body


async def _read_body(receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise BadSave("body too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send, status: int, body: dict[str, Any], *, headers=()) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def handle_save(attempt: str, scope, receive, send) -> None:
    headers = dict(scope.get("headers") or [])
    device = headers.get(b"x-device-token", b"").decode("latin-1")
    try:
        attempt = str(uuid.UUID(attempt))
        saves = parse_saves(await _read_body(receive))
    except BadSave as exc:
        await _respond(send, 400, {"error": "bad_request", "detail": str(exc)})
        return
    except ConnectionError:
        return
    try:
        status, body = await save_fast(attempt=attempt, device=device, saves=saves)
    except DatabaseUnavailable:
        # The client keeps the save and retries, as it does offline (static/js/exam-client.js).
        await _respond(
            send, 503, {"error": "unavailable"}, headers=[(b"retry-after", RETRY_AFTER_S)]
        )
        return
    await _respond(send, status, body)


def with_save_route(app):
    """Wrap the Django ASGI app: on PostgreSQL, saves go straight to the fast path.

    Every other HTTP request is answered by Django's WSGI handler in a bounded thread pool
    (provplattform.sync_http): one thread hop per request instead of one per middleware, and at most
    WEB_MAX_CONCURRENT_REQUESTS requests (each with its database connection) at a time per
    process; the rest wait their turn instead of exhausting PostgreSQL. `app` still answers
    everything that is not HTTP.
    """
    pages = http_bridge(threads=settings.WEB_MAX_CONCURRENT_REQUESTS)

    async def router(scope, receive, send):
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if (
            scope["method"] == "POST"
            and settings.USING_POSTGRES
            and settings.DELIVERY_SAVE_FAST_PATH
        ):
            match = SAVE_PATH.match(scope["path"])
            if match:
                await handle_save(match.group(1), scope, receive, send)
                return
        await pages(scope, receive, send)

    return router
