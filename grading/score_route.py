"""The assessor's score save, PUT /api/v1/units/<unit>/desk/scores/<score>/, answered in front
of Django on PostgreSQL.

The desk saves a score every few seconds per assessor, and through Django each save opened a
database connection, ran the middleware and DRF, and a dozen statements. Here a save takes a
pooled connection (delivery.save_api.pool) and three statements: the session, one locked read
that is also the whole permission check (the user, ASSESS at the unit, the assignment), and one
statement that updates the score, appends its audit row and counts the assessor's progress.

This route only ever acknowledges. It answers a request only when Django would answer 200:
the same session (its hash checked as django.contrib.auth does), the same CSRF check
(Django's own CsrfViewMiddleware), a body DRF would accept, and a save
grading.scoring_services would make (`save_refusal`, `points_checked`: the same functions).
Anything else — no session, a refusal, a conflict, a query string, an unusual body, the
database slow or away — goes to Django unchanged (DeskScoreView), which answers it as it
answers every request, so refusals, their wording and their language are Django's.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import json
import logging
import re
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from rest_framework.fields import DateTimeField

from delivery.save_api import pool
from exams.models import Item
from grading.anonymity import student_code
from grading.hooks import scores_committed_notify
from grading.models import ScoreSource
from grading.scoring_services import MAX_COMMENT, points_checked, save_refusal
from provplattform.audit import AuditAction, plain
from provplattform.errors import Refused
from provplattform.inputs import loads_json
from provplattform.logs import warn_every
from provplattform.sync_http import build_environ
from schools.models import User
from schools.roles import Capability

log = logging.getLogger(__name__)

SCORE_PATH = re.compile(r"^/api/v1/units/([0-9a-fA-F-]{36})/desk/scores/([0-9a-fA-F-]{36})/$")
MAX_BODY = 64 * 1024
# Sessions recorded by these backends load the user as ModelBackend does (by id, active only).
MODEL_BACKENDS = {"schools.auth.AccountLockBackend", "django.contrib.auth.backends.ModelBackend"}

_SESSION = "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s"

# The user, and the score only if it is assigned to them at a unit (the one in the path) where
# they hold ASSESS: the lookup of scoring_services.score_save and the desk's unit check in one.
_LOCKED = """
SELECT u.password, u.is_active, u.person_id,
       sc.id, sc.points, sc.criteria_points, sc.comment, sc.source, sc.version,
       i.public_id, i.identifier, i.max_points, i.scoring_criteria, st.public_id,
       si.subtest_id, at.person_id, p.public_id, su.id, su.public_id
FROM schools_user u
JOIN grading_gradingassignment ga ON ga.assessor_id = u.person_id
JOIN grading_score sc ON sc.id = ga.score_id
JOIN delivery_attempt at ON at.id = sc.attempt_id
JOIN exams_sitting si ON si.id = at.sitting_id
JOIN schools_schoolunit su ON su.id = si.school_unit_id
JOIN exams_item i ON i.id = sc.item_id
JOIN exams_subtest st ON st.id = i.subtest_id
JOIN schools_person p ON p.id = at.person_id
WHERE u.id = %(user)s AND sc.public_id = %(score)s AND su.public_id = %(unit)s
  AND EXISTS (
    SELECT 1 FROM schools_schoolunituserobjectpermission g
    JOIN auth_permission ap ON ap.id = g.permission_id
    WHERE g.user_id = u.id AND g.content_object_id = su.id AND ap.codename = %(capability)s)
FOR UPDATE OF sc
"""

# The save, its audit row (as provplattform.audit.audit_record writes it) and the assessor's
# progress at the unit (grading.desk_selectors.desk_progress; the counts see the table as it
# was before this statement, hence the score itself counted apart).
_SAVE = """
WITH saved AS (
    UPDATE grading_score SET points = %(points)s, criteria_points = %(criteria)s::jsonb,
        comment = %(comment)s, source = %(source)s, assessed_by_id = %(user)s,
        assessed_at = %(now)s, version = %(version)s, modified = %(now)s
    WHERE id = %(id)s
    RETURNING id
), audited AS (
    INSERT INTO provplattform_auditevent
        (at, actor_id, action, scope, target_type, target_id, before, after, reason)
    SELECT %(now)s, %(user)s, %(action)s, %(unit)s, 'grading.Score', %(target)s,
           %(before)s::jsonb, %(after)s::jsonb, ''
    FROM saved
    RETURNING id
)
SELECT count(*), count(*) FILTER (WHERE s.points IS NOT NULL AND s.id <> %(id)s) + 1,
       (SELECT count(*) FROM audited)
FROM grading_score s
JOIN grading_gradingassignment ga ON ga.score_id = s.id
JOIN grading_gradingplan gp ON gp.id = ga.plan_id
WHERE ga.assessor_id = %(person)s AND gp.school_unit_id = %(unit_id)s
"""


class NotHere(Exception):
    """Django answers this request, not the route."""


def _csrf_passes(request: WSGIRequest) -> bool:
    return CsrfViewMiddleware(_view).process_view(request, _view, (), {}) is None


def _view(request: HttpRequest) -> HttpResponse:  # pragma: no cover - only looked at
    raise AssertionError


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def parse_body(body: bytes) -> dict[str, Any]:
    """The body as DeskScoreSaveSerializer would have it; NotHere for anything it might read
    otherwise (strings for numbers, a missing version...), which Django then answers."""
    try:
        data = loads_json(body)
    except ValueError as exc:
        raise NotHere from exc
    if not isinstance(data, dict) or not _whole(data.get("version")):
        raise NotHere
    points = data.get("points")
    criteria = data.get("criteria_points")
    comment = data.get("comment", "")
    if points is not None and not _whole(points):
        raise NotHere
    if criteria is not None and not (
        isinstance(criteria, dict) and all(_whole(v) for v in criteria.values())
    ):
        raise NotHere
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise NotHere
    # DRF's CharField trims surrounding whitespace.
    return {"points": points, "criteria": criteria, "comment": comment.strip(),
            "version": data["version"]}  # fmt: skip


def _session_user(session_data: str) -> tuple[int, str]:
    """(user id, session auth hash) of a signed-in session recorded by a model backend."""
    session = SessionStore().decode(session_data)
    backend = session.get(BACKEND_SESSION_KEY)
    if backend not in MODEL_BACKENDS or backend not in settings.AUTHENTICATION_BACKENDS:
        raise NotHere
    try:
        return int(session[SESSION_KEY]), str(session[HASH_SESSION_KEY])
    except (KeyError, TypeError, ValueError) as exc:
        raise NotHere from exc


async def save(*, request: WSGIRequest, unit: str, score: str, body: bytes) -> dict[str, Any]:
    """Save the score and answer as DeskScoreView would; NotHere when Django should answer."""
    if request.META.get("QUERY_STRING") or request.content_type != "application/json":
        raise NotHere
    if not _csrf_passes(request):
        raise NotHere
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        raise NotHere
    given = parse_body(body)
    score = str(uuid.UUID(score))
    now = timezone.now()
    connections = await pool()
    async with asyncio.timeout(settings.DELIVERY_SAVE_STATEMENT_S):
        async with connections.connection(timeout=settings.DELIVERY_SAVE_DB_WAIT_S) as conn:
            cur = await conn.execute(_SESSION, (session_key, now))
            found = await cur.fetchone()
            if found is None:
                raise NotHere
            user_id, session_hash = _session_user(found[0])
            async with conn.transaction():
                cur = await conn.execute(
                    _LOCKED,
                    {"user": user_id, "score": score, "unit": unit,
                     "capability": str(Capability.ASSESS)},
                )  # fmt: skip
                row = await cur.fetchone()
                if row is None:
                    raise NotHere
                user = User(pk=user_id, password=row[0], is_active=row[1], person_id=row[2])
                if not user.is_active or not constant_time_compare(
                    session_hash, user.get_session_auth_hash()
                ):
                    raise NotHere
                answer, params = _checked(row, user=user, score=score, given=given, now=now)
                cur = await conn.execute(_SAVE, params)
                counted = await cur.fetchone()
                if counted is None or counted[2] != 1:
                    raise NotHere
    return {
        "body": {**answer, **progress_of(assessed=counted[1], total=counted[0], request=request)},
        "notify": {"school_unit_id": row[17], "subtest_ids": [row[14]], "person_ids": [row[15]]},
    }


def progress_of(*, assessed: int, total: int, request: WSGIRequest) -> dict[str, Any]:
    """As grading.desk_api._progress words it, in the language Django would pick."""
    with translation.override(translation.get_language_from_request(request)):
        text = _("%(done)s of %(total)s assessed") % {"done": assessed, "total": total}
    return {"progress": {"assessed": assessed, "total": total}, "progress_text": text}


def _checked(row: tuple, *, user: User, score: str, given: dict, now: datetime.datetime):
    """The answer and the statement's parameters, when scoring_services would save."""
    (points, criteria, comment, source, version, item_public, identifier, max_points, guide,
     subtest_public, _subtest, _person, person_public, unit_id, unit_public) = row[4:]  # fmt: skip
    if save_refusal(source=source, version=version, expected=given["version"]):
        raise NotHere
    item = Item(max_points=max_points, scoring_criteria=guide)
    try:
        new_points, new_criteria = points_checked(
            score_item=item, points=given["points"], criteria_points=given["criteria"]
        )
    except Refused as exc:  # Django words it
        raise NotHere from exc
    before = {"points": points, "criteria_points": criteria, "comment": comment,
              "source": source, "version": version}  # fmt: skip
    after = {"points": new_points, "criteria_points": new_criteria, "comment": given["comment"],
             "source": str(ScoreSource.PERSON), "version": version + 1}  # fmt: skip
    params = {
        "id": row[3], "points": new_points, "criteria": json.dumps(new_criteria),
        "comment": given["comment"], "source": str(ScoreSource.PERSON), "user": user.pk,
        "now": now, "version": version + 1, "action": str(AuditAction.SCORE_SAVE),
        "unit": unit_public, "target": score,
        "before": json.dumps(plain(before)), "after": json.dumps(plain(after)),
        "person": user.person_id, "unit_id": unit_id,
    }  # fmt: skip
    answer = {
        "id": score,
        "item": str(item_public),
        "item_identifier": identifier,
        "max_points": max_points,
        "student_code": student_code(
            subtest_public_id=subtest_public, person_public_id=person_public
        ),
        **after,
        "assessed_at": DateTimeField().to_representation(now),
    }
    return answer, params


# --- ASGI -----------------------------------------------------------------------------------------


async def _read(receive) -> tuple[list[dict], bytes | None]:
    """The request's messages as read, and its body (None when larger than MAX_BODY or the
    client went away: the messages then go to Django as they are)."""
    messages: list[dict] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > MAX_BODY:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list[dict], receive):
    pending = list(messages)

    async def replayed():
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


HEADERS = [
    (b"content-type", b"application/json"),
    (b"vary", b"Accept, Accept-Language, Cookie"),
    (b"allow", b"GET, PUT, HEAD, OPTIONS"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


async def _respond(send, body: dict[str, Any], language: str) -> None:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                *HEADERS,
                (b"content-language", language.encode("latin-1")),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _notify_committed(notify: dict[str, Any]) -> None:
    """The results hear of the save (in a thread: a subscriber may block briefly)."""
    try:
        scores_committed_notify(**notify)
    finally:
        close_old_connections()


async def handle(scope, receive, send, app, *, unit: str, score: str) -> None:
    messages, body = await _read(receive)
    if body is not None:
        environ = build_environ(scope, io.BytesIO(body), len(body))
        request = WSGIRequest(environ)
        try:
            answer = await save(request=request, unit=unit, score=score, body=body)
        except NotHere:
            answer = None
        except Exception as exc:  # the database slow or away, anything unforeseen: Django's turn
            warn_every(log, "score-route", "score save handed to Django: %s", type(exc).__name__)
            answer = None
        if answer is not None:
            await _respond(send, answer["body"], translation.get_language_from_request(request))
            await sync_to_async(_notify_committed, thread_sensitive=False)(answer["notify"])
            return
    await app(scope, _replay(messages, receive), send)


def with_score_route(app):
    """Wrap the ASGI app: on PostgreSQL, a score save goes to `handle` first."""

    async def router(scope, receive, send):
        if (
            scope["type"] == "http"
            and scope["method"] == "PUT"
            and settings.USING_POSTGRES
            and settings.GRADING_SAVE_FAST_PATH
        ):
            match = SCORE_PATH.match(scope["path"])
            if match:
                await handle(scope, receive, send, app, unit=match[1], score=match[2])
                return
        await app(scope, receive, send)

    return router
