"""No route lets an assessor hand on, share or reassign a response.

Walks the whole URL configuration (pages and API, so a route added later is covered the day it
exists) and calls every method as an assessor, with bodies naming another assessor in every way
a reassignment could be asked for; the assignments must be exactly as before.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from grading.models import GradingAssignment, Score
from schools.roles import Role
from tests.grading.helpers import grading_sitting, submitted_attempt

METHODS = ("get", "post", "put", "patch", "delete")
SKIP_PREFIXES = ("admin/", "i18n/", "api/schema", "api/docs")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


ROUTES = sorted({r for r in _walk(get_resolver().url_patterns) if not r.startswith(SKIP_PREFIXES)})


def _fill(route: str, values: dict[str, str]) -> str:
    path = route
    while "<" in path:
        start = path.index("<")
        end = path.index(">", start)
        kind, _sep, name = path[start + 1 : end].partition(":")
        value = values.get(name, values["*"]) if name else values.get(kind, values["*"])
        if kind not in ("uuid", "str", "slug", "path") and name:
            value = "1"  # int and other converters
        path = path[:start] + value + path[end + 1 :]
    return "/" + path.lstrip("^").rstrip("$")


@pytest.mark.parametrize("role", [Role.ASSESSOR, Role.TEACHER])
def test_no_route_lets_an_assessor_reassign(world, role):
    # given a distribution between the assessor and the teacher
    sitting = grading_sitting(world.unit)
    for person in world.students_a + world.students_b:
        submitted_attempt(sitting, person)
    lead = Client()
    lead.force_login(world.staff[Role.ASSESSMENT_LEAD])
    me, other = (
        world.staff[role].person,
        world.staff[Role.TEACHER if role == Role.ASSESSOR else Role.ASSESSOR].person,
    )
    response = lead.post(
        f"/api/v1/units/{world.unit.public_id}/grading/subtests/{sitting.subtest.public_id}"
        "/distribution/",
        {"assessors": [str(me.public_id), str(other.public_id)]},
        "application/json",
    )
    assert response.status_code == 201
    before = dict(GradingAssignment.objects.values_list("score_id", "assessor_id"))
    mine = GradingAssignment.objects.filter(assessor=me).first()
    score = Score.objects.get(pk=mine.score_id)
    values = {
        "unit": str(world.unit.public_id),
        "subtest": str(sitting.subtest.public_id),
        "score": str(score.public_id),
        "assignment": str(mine.public_id),
        "person": str(other.public_id),
        "*": str(score.public_id),
    }
    bodies = [
        {
            "assessor": str(other.public_id),
            "assessors": [str(other.public_id)],
            "to": str(other.public_id),
            "person": str(other.public_id),
            "score": str(score.public_id),
            "scores": [str(score.public_id)],
            "version": score.version,
        },
    ]
    # when the assessor calls every route with every method
    client = Client(raise_request_exception=False)
    client.force_login(world.staff[role])
    called = 0
    for route in ROUTES:
        path = _fill(route, values)
        for method in METHODS:
            for body in bodies:
                if method == "get":
                    getattr(client, method)(path)
                else:
                    getattr(client, method)(path, body, content_type="application/json")
                    getattr(client, method)(path, body)
                called += 1
    # then nothing was handed on
    assert called > 100
    assert dict(GradingAssignment.objects.values_list("score_id", "assessor_id")) == before
    assert not GradingAssignment.objects.filter(assessor=other, pk=mine.pk).exists()


def test_the_walk_reaches_the_grading_routes():
    assert any("desk/scores/<uuid:score>" in r for r in ROUTES)
    assert any("grading/subtests/<uuid:subtest>/redistribution" in r for r in ROUTES)
