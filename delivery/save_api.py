"""The autosave path: POST /api/v1/delivery/attempts/<attempt>/saves.

On PostgreSQL a small ASGI route in front of Django answers it: one pooled async connection
(psycopg_pool), one upsert statement that also checks the device and the deadline, no middleware
and no thread hop per request. The answer is sent only after that statement has committed. On
SQLite (the embedded default) the same URL is a plain Django view using the ORM path in
delivery.services.responses_save; both apply the same rule:

* the device token (sent in the X-Device-Token header, never a cookie) must be the attempt's
  current one, else 409 device_replaced;
* a save replaces the stored content only if its sequence number is newer;
* after the deadline only saves made before it are accepted, within the grace window, marked late
  (delivery.timer.save_verdict); anything else is 409 and stays in the client's storage.

Request body: {"saves": [{"item": uuid, "seq": int, "content": any, "flagged": bool,
"client_saved_at": iso8601}]}. Answer: {"acked": [{"item", "seq"}], "server_time"} or, with 409,
{"error": reason, "acked": [...]}. A save whose sequence the server already holds or exceeds is
acknowledged: the server has that answer or a newer one.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import re
import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from delivery import services
from delivery.sync_http import SyncDjango

SAVE_PATH = re.compile(r"^/api/v1/delivery/attempts/([0-9a-fA-F-]{36})/saves/?$")
MAX_BODY = 512 * 1024
MAX_SAVES = 200


class BadSave(ValueError):
    pass


def parse_saves(body: bytes) -> list[services.Save]:
    try:
        data = json.loads(body or b"{}")
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
                services.Save(
                    item=item,
                    seq=seq,
                    content=entry.get("content"),
                    flagged=bool(entry.get("flagged", False)),
                    client_saved_at=client_saved_at,
                )
            )
        return services.newest_per_item(saves)
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise BadSave(str(exc)) from exc


def _status_for(refused: str) -> int:
    return 404 if refused == "not_found" else 409


# --- ORM path (SQLite, and anything not served by the ASGI route) -------------------------------


@csrf_exempt  # authenticated by the device token header, which a cross-site form cannot send
@require_POST
def save_view(request: HttpRequest, attempt: uuid.UUID) -> JsonResponse:
    try:
        saves = parse_saves(request.body)
    except BadSave as exc:
        return JsonResponse({"error": "bad_request", "detail": str(exc)}, status=400)
    result = services.responses_save(
        attempt_public_id=attempt,
        device_token=request.headers.get("X-Device-Token", ""),
        saves=saves,
    )
    body: dict[str, Any] = {"acked": result.acked, "server_time": timezone.now().isoformat()}
    if result.refused:
        body["error"] = result.refused
        return JsonResponse(body, status=_status_for(result.refused))
    return JsonResponse(body)


# --- PostgreSQL fast path -----------------------------------------------------------------------

_FAST_UPSERT = """
WITH a AS (
    SELECT at.id, at.status, at.deadline, s.subtest_id
    FROM delivery_attempt at JOIN exams_sitting s ON s.id = at.sitting_id
    WHERE at.public_id = %(attempt)s AND at.device_token = %(device)s
      AND at.status IN ('working', 'paused')
    FOR SHARE OF at
)
INSERT INTO delivery_response
    (attempt_id, item_id, content, seq, flagged, client_saved_at, server_saved_at, late)
SELECT a.id, i.id, v.content::jsonb, v.seq, v.flagged, v.client_ts, now(),
       (a.status = 'working' AND now() > a.deadline)
FROM a
CROSS JOIN unnest(%(items)s::uuid[], %(seqs)s::bigint[], %(contents)s::text[],
                  %(flags)s::boolean[], %(cts)s::timestamptz[])
     AS v(item, seq, content, flagged, client_ts)
JOIN exams_item i ON i.public_id = v.item AND i.subtest_id = a.subtest_id
WHERE a.status = 'paused' OR now() <= a.deadline
   OR (v.client_ts <= a.deadline AND now() <= a.deadline + make_interval(secs => %(grace)s))
ON CONFLICT (attempt_id, item_id) DO UPDATE SET
    content = EXCLUDED.content, seq = EXCLUDED.seq, flagged = EXCLUDED.flagged,
    client_saved_at = EXCLUDED.client_saved_at, server_saved_at = EXCLUDED.server_saved_at,
    late = EXCLUDED.late
WHERE delivery_response.seq < EXCLUDED.seq
"""

_HELD = """
SELECT at.status, at.device_token = %(device)s AS same_device, i.public_id::text, r.seq
FROM delivery_attempt at
LEFT JOIN delivery_response r ON r.attempt_id = at.id
LEFT JOIN exams_item i ON i.id = r.item_id AND i.public_id = ANY(%(items)s::uuid[])
WHERE at.public_id = %(attempt)s
"""

_pools: dict[int, Any] = {}
_pool_lock: asyncio.Lock | None = None


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
    )


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
            from psycopg_pool import AsyncConnectionPool  # noqa: PLC0415 - optional: PostgreSQL only

            pool = AsyncConnectionPool(
                _conninfo(),
                min_size=1,
                max_size=settings.DELIVERY_SAVE_POOL_SIZE,
                kwargs={"autocommit": True},
                open=False,
            )
            await pool.open()
            _pools[id(loop)] = pool
    return pool


async def pools_close() -> None:
    for key, pool in list(_pools.items()):
        await pool.close()
        _pools.pop(key, None)


async def save_fast(
    *, attempt: str, device: str, saves: list[services.Save]
) -> tuple[int, dict[str, Any]]:
    """Apply the saves in one autocommitted statement; (HTTP status, body)."""
    now = datetime.datetime.now(datetime.UTC)
    if not saves:
        return 200, {"acked": [], "server_time": now.isoformat()}
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
    pool = await _pool()
    async with pool.connection() as conn:
        cur = await conn.execute(_FAST_UPSERT, params)
        applied = cur.rowcount
        if applied == len(saves):
            acked = [{"item": s.item, "seq": s.seq} for s in saves]
            return 200, {"acked": acked, "server_time": now.isoformat()}
        # Some were not applied: either the server holds them (or newer) already, or refused.
        cur = await conn.execute(_HELD, params)
        rows = await cur.fetchall()
    if not rows:
        return 404, {"error": "not_found", "acked": []}
    status, same_device = rows[0][0], rows[0][1]
    held = {row[2]: row[3] for row in rows if row[2] is not None}
    acked = [{"item": s.item, "seq": s.seq} for s in saves if held.get(s.item, 0) >= s.seq]
    body: dict[str, Any] = {"acked": acked, "server_time": now.isoformat()}
    if len(acked) == len(saves):
        return 200, body
    if not same_device:
        body["error"] = "device_replaced"
    elif status == "submitted":
        body["error"] = "submitted"
    elif status not in ("working", "paused"):
        body["error"] = "not_started"
    else:
        body["error"] = "deadline_passed"
    return 409, body


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


async def _respond(send, status: int, body: dict[str, Any]) -> None:
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
    status, body = await save_fast(attempt=attempt, device=device, saves=saves)
    await _respond(send, status, body)


def with_save_route(app):
    """Wrap the Django ASGI app: on PostgreSQL, saves go straight to the fast path.

    Every other HTTP request is answered by Django's WSGI handler in a bounded thread pool
    (delivery.sync_http): one thread hop per request instead of one per middleware, and at most
    WEB_MAX_CONCURRENT_REQUESTS requests (each with its database connection) at a time per
    process; the rest wait their turn instead of exhausting PostgreSQL. `app` still answers
    everything that is not HTTP.
    """
    pages = SyncDjango(threads=settings.WEB_MAX_CONCURRENT_REQUESTS)

    async def router(scope, receive, send):
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["method"] == "POST" and settings.USING_POSTGRES:
            match = SAVE_PATH.match(scope["path"])
            if match:
                await handle_save(match.group(1), scope, receive, send)
                return
        await pages(scope, receive, send)

    return router
