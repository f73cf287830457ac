"""Every grading page and API operation × every role: allowed exactly where the role table gives
the capability; refused (404, as for a missing unit) everywhere else."""

from __future__ import annotations

import pytest

from grading.models import GradingAssignment, GradingPlan, Score
from schools.roles import Capability, Role, capabilities_of
from tests.grading.helpers import grading_sitting, submitted_attempt

LEAD, ASSESS = Capability.PREPARE_GRADING, Capability.ASSESS


@pytest.fixture
def ctx(world):
    sitting = grading_sitting(world.unit)
    for person in world.students_a:
        submitted_attempt(sitting, person)
    return {
        "unit": world.unit.public_id,
        "subtest": sitting.subtest.public_id,
        "assessor": str(world.staff[Role.ASSESSOR].person.public_id),
        "sitting": sitting,
    }


def _choice(ctx, **extra):
    return {"assessors": [ctx["assessor"]], **extra}


def _page(path):
    return lambda client, ctx: client.get(path.format(**ctx))


def _api_get(path):
    return lambda client, ctx: client.get("/api/v1/" + path.format(**ctx))


def _api_post(path, body, method="post"):
    return lambda client, ctx: getattr(client, method)(
        "/api/v1/" + path.format(**ctx), body(ctx), content_type="application/json"
    )


S = "units/{unit}/grading/subtests/{subtest}/"
OPERATIONS = {
    "page-overview": (LEAD, _page("/units/{unit}/grading/")),
    "page-subtest": (LEAD, _page("/units/{unit}/grading/{subtest}/")),
    "page-unassessed": (LEAD, _page("/units/{unit}/grading/{subtest}/unassessed/")),
    "page-preview": (
        LEAD,
        lambda client, ctx: client.post(
            "/units/{unit}/grading/{subtest}/distribution/".format(**ctx),
            {"assessors": [ctx["assessor"]], "mode": "by_student", "own_groups": "any"},
        ),
    ),
    "page-due-date": (
        LEAD,
        lambda client, ctx: client.post(
            "/units/{unit}/grading/{subtest}/due-date/".format(**ctx), {"due_date": "2030-06-01"}
        ),
    ),
    "api-subtests": (LEAD, _api_get("units/{unit}/grading/subtests/")),
    "api-assessors": (LEAD, _api_get("units/{unit}/grading/assessors/")),
    "api-subtest": (LEAD, _api_get(S)),
    "api-unassessed": (LEAD, _api_get(S + "unassessed/")),
    "api-preview": (LEAD, _api_post(S + "preview/", _choice)),
    "api-distribution": (LEAD, _api_post(S + "distribution/", _choice)),
    "api-due-date": (LEAD, _api_post(S + "due-date/", lambda c: {"due_date": None}, "put")),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_grading_operations_follow_the_role_table(world, client, ctx, role, operation):
    capability, call = OPERATIONS[operation]
    client.force_login(world.staff[role])
    response = call(client, ctx)
    if capability in capabilities_of(role):
        assert 200 <= response.status_code < 400, (response.status_code, response.content[:300])
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_redistribution_follows_the_role_table(world, client, ctx, role):
    plan = GradingPlan.objects.create(
        school_unit=world.unit, subtest=ctx["sitting"].subtest, confirmed_at="2030-01-01T00:00Z"
    )
    for score in Score.objects.filter(item__kind="extended_text"):
        GradingAssignment.objects.create(
            plan=plan, score=score, assessor=world.staff[Role.TEACHER].person
        )
    client.force_login(world.staff[role])
    response = client.post(
        "/api/v1/" + S.format(**ctx) + "redistribution/",
        _choice(ctx),
        content_type="application/json",
    )
    if LEAD in capabilities_of(role):
        assert response.status_code == 200, response.content
        assert not GradingAssignment.objects.filter(
            assessor=world.staff[Role.TEACHER].person
        ).exists()
    else:
        assert response.status_code == 404
        assert (
            GradingAssignment.objects.filter(assessor=world.staff[Role.ASSESSOR].person).count()
            == 0
        )


@pytest.mark.parametrize("role", list(Role))
def test_score_operations_follow_the_role_table(world, client, ctx, role):
    # given a response assigned to the user, as the lead would have done
    plan = GradingPlan.objects.create(school_unit=world.unit, subtest=ctx["sitting"].subtest)
    score = Score.objects.filter(item__kind="extended_text").first()
    GradingAssignment.objects.create(plan=plan, score=score, assessor=world.staff[role].person)
    client.force_login(world.staff[role])
    url = f"/api/v1/units/{world.unit.public_id}/desk/scores/{score.public_id}/"
    read = client.get(url)
    saved = client.put(url, {"points": 1, "version": 0}, content_type="application/json")
    if ASSESS in capabilities_of(role):
        assert (read.status_code, saved.status_code) == (200, 200)
    else:
        assert (read.status_code, saved.status_code) == (404, 404)
        assert Score.objects.get(pk=score.pk).points is None


def test_the_outsider_and_the_sibling_head_get_404_everywhere(world, client, ctx):
    for user in (world.outsider, world.sibling_head):
        client.force_login(user)
        for _capability, call in OPERATIONS.values():
            assert call(client, ctx).status_code == 404
