"""The score save answered in front of Django (grading.score_route), on PostgreSQL: it
acknowledges exactly what Django would, writes the same score and audit row, and hands every
other request to Django unchanged."""

from __future__ import annotations

import asyncio
import json
import secrets

import httpx
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from delivery import save_api
from grading.models import Score, ScoreSource
from grading.score_route import with_score_route
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.grading.desk_helpers import assign_all, graded_subtest, submitted_attempts

pytestmark = [
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="the route exists on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


class Django:
    """Stands for Django behind the route: records what reached it and answers 418."""

    def __init__(self):
        self.bodies: list[bytes] = []

    async def __call__(self, scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def desk(world):
    subtest, items = graded_subtest(open_items=3, criteria_item=True)
    attempts = submitted_attempts(unit=world.unit, subtest=subtest, items=items, count=2)
    assessor = world.staff[Role.ASSESSOR]
    mine = Score.objects.filter(attempt__in=attempts[:1], source=ScoreSource.PERSON)
    theirs = Score.objects.filter(attempt=attempts[1], source=ScoreSource.PERSON)
    assign_all(unit=world.unit, subtest=subtest, assessor_person=assessor.person, scores=mine)
    teacher = world.staff[Role.TEACHER]
    assign_all(unit=world.unit, subtest=subtest, assessor_person=teacher.person, scores=theirs)
    world.mine = list(mine.order_by("item__position"))
    world.theirs = list(theirs)
    return world


def _cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _put(calls, django=None):
    """(user, unit, score, body, headers) per call, in order; [(status, json or None)]."""
    django = django or Django()

    async def go():
        transport = httpx.ASGITransport(app=with_score_route(django))
        answers = []
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for cookie, unit, score, body, extra in calls:
                csrf = secrets.token_hex(16)
                headers = {"Content-Type": "application/json", "X-CSRFToken": csrf,
                           "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}; csrftoken={csrf}",
                           **extra}  # fmt: skip
                url = f"/api/v1/units/{unit.public_id}/desk/scores/{score.public_id}/"
                r = await c.put(url, content=json.dumps(body), headers=headers)
                answers.append((r.status_code, r.json() if r.status_code == 200 else None))
        await save_api.pools_close()
        return answers

    return asyncio.run(go()), django


def _plain(score):
    return next(s for s in score if not s.item.scoring_criteria.startswith("E:"))


def test_the_route_saves_and_answers_as_django_does(desk):
    # given the same save made once through Django and once through the route
    assessor = desk.staff[Role.ASSESSOR]
    first, second = [s for s in desk.mine if not s.item.scoring_criteria.startswith("E:")][:2]
    client = Client()
    client.force_login(assessor)
    through_django = client.put(
        reverse("api-desk-score", args=[desk.unit.public_id, first.public_id]),
        {"points": 2, "comment": " Bra ", "version": 0},
        content_type="application/json",
    )
    answers, django = _put(
        [
            (
                _cookie(assessor),
                desk.unit,
                second,
                {"points": 2, "comment": " Bra ", "version": 0},
                {},
            )
        ]
    )
    # then the route answered itself, with the same fields and the same stored rows
    assert django.bodies == []
    status, body = answers[0]
    expected = through_django.json()
    assert status == 200
    assert set(body) == set(expected)
    for key in ("points", "criteria_points", "comment", "source", "version", "max_points"):
        assert body[key] == expected[key], key
    total = expected["progress"]["total"]
    assert body["progress"] == {"assessed": 2, "total": total}
    assert body["progress_text"] == f"2 of {total} assessed"
    stored = Score.objects.get(pk=second.pk)
    assert (stored.points, stored.comment, stored.source, stored.version) == (2, "Bra", "person", 1)
    assert stored.assessed_by == assessor
    audits = {e.target_id: e for e in AuditEvent.objects.filter(action="score.save")}
    ours, theirs = audits[str(second.public_id)], audits[str(first.public_id)]
    for field in ("actor_id", "scope", "target_type", "before", "after", "reason"):
        assert getattr(ours, field) == getattr(theirs, field), field


def test_points_per_criterion_are_saved_by_the_route(desk):
    assessor = desk.staff[Role.ASSESSOR]
    score = next(s for s in desk.mine if s.item.scoring_criteria.startswith("E:"))
    body = {"criteria_points": {"c1": 1, "c2": 0, "c3": 1}, "version": 0}
    answers, django = _put([(_cookie(assessor), desk.unit, score, body, {})])
    assert answers[0][0] == 200 and django.bodies == []
    stored = Score.objects.get(pk=score.pk)
    assert (stored.points, stored.criteria_points) == (2, {"c1": 1, "c2": 0, "c3": 1})


def test_everything_the_route_would_not_acknowledge_goes_to_django_unchanged(desk):
    assessor = desk.staff[Role.ASSESSOR]
    cookie = _cookie(assessor)
    plain = _plain(desk.mine)
    criteria = next(s for s in desk.mine if s.item.scoring_criteria.startswith("E:"))
    ok = {"points": 1, "version": 0}
    calls = [
        ("no-such-session", desk.unit, plain, ok, {}),  # signed out
        (_cookie(desk.staff[Role.HEAD_TEACHER]), desk.unit, plain, ok, {}),  # not assigned
        (cookie, desk.unit, desk.theirs[0], ok, {}),  # someone else's
        (cookie, desk.sibling_unit, plain, ok, {}),  # through another unit
        (cookie, desk.unit, plain, ok, {"X-CSRFToken": "wrong"}),  # CSRF
        (cookie, desk.unit, plain, {"points": 9, "version": 0}, {}),  # out of range
        (cookie, desk.unit, plain, {"points": "1", "version": 0}, {}),  # a string
        (cookie, desk.unit, plain, {"points": 1}, {}),  # no version
        (cookie, desk.unit, plain, {"points": 1, "version": 5}, {}),  # stale
        (cookie, desk.unit, criteria, {"criteria_points": {"c1": 1}, "version": 0}, {}),
        (cookie, desk.unit, plain, {"points": 1, "comment": "a\u0000b", "version": 0}, {}),
    ]
    answers, django = _put(calls)
    assert [status for status, _ in answers] == [418] * len(calls)
    assert len(django.bodies) == len(calls)
    assert json.loads(django.bodies[5]) == {"points": 9, "version": 0}
    assert not Score.objects.filter(version__gt=0).exists()
    assert not AuditEvent.objects.filter(action="score.save").exists()


def test_a_machine_score_goes_to_django(desk):
    assessor = desk.staff[Role.ASSESSOR]
    score = _plain(desk.mine)
    Score.objects.filter(pk=score.pk).update(source=ScoreSource.MACHINE, points=0)
    answers, _django = _put(
        [(_cookie(assessor), desk.unit, score, {"points": 1, "version": 0}, {})]
    )
    assert answers[0][0] == 418
    assert Score.objects.get(pk=score.pk).points == 0


def test_results_hear_of_a_save_made_by_the_route(desk, monkeypatch):
    heard = []
    monkeypatch.setattr("grading.hooks.scores_changed", [lambda **kw: heard.append(kw)])
    assessor = desk.staff[Role.ASSESSOR]
    score = _plain(desk.mine)
    _put([(_cookie(assessor), desk.unit, score, {"points": 1, "version": 0}, {})])
    assert heard == [
        {
            "school_unit_id": desk.unit.pk,
            "subtest_ids": [score.item.subtest_id],
            "person_ids": [score.attempt.person_id],
        }
    ]
