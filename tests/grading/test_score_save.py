"""The assessor's score save: only their own assigned responses, optimistic locking, audited."""

from __future__ import annotations

import pytest

from grading.models import GradingAssignment, Score
from grading.scoring_services import ScoreConflict, ScoreRefused, score_save
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.grading.helpers import grading_sitting, submitted_attempt


@pytest.fixture
def assigned(world, client):
    """The assessor has world.students_a[0]'s essay0 response."""
    sitting = grading_sitting(world.unit)
    submitted_attempt(sitting, world.students_a[0])
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    people = [world.staff[Role.ASSESSOR].person]
    response = client.post(
        f"/api/v1/units/{world.unit.public_id}/grading/subtests/{sitting.subtest.public_id}"
        "/distribution/",
        {"assessors": [str(p.public_id) for p in people]},
        "application/json",
    )
    assert response.status_code == 201
    client.logout()
    return Score.objects.get(attempt__person=world.students_a[0], item__identifier="essay0")


def _url(world, score, unit=None):
    return f"/api/v1/units/{(unit or world.unit).public_id}/desk/scores/{score.public_id}/"


def test_assessor_saves_a_score_and_it_is_audited_from_and_to(world, client, assigned):
    client.force_login(world.staff[Role.ASSESSOR])
    response = client.put(
        _url(world, assigned),
        {"points": 2, "comment": "Bra resonemang", "version": 0},
        "application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 1
    score = Score.objects.get(pk=assigned.pk)
    assert (score.points, score.source, score.assessed_by) == (
        2,
        "person",
        world.staff[Role.ASSESSOR],
    )
    event = AuditEvent.objects.get(action="score.save")
    assert event.before["points"] is None and event.after["points"] == 2


def test_a_stale_version_is_refused_with_the_newer_score(world, client, assigned):
    client.force_login(world.staff[Role.ASSESSOR])
    client.put(_url(world, assigned), {"points": 2, "version": 0}, "application/json")
    response = client.put(_url(world, assigned), {"points": 3, "version": 0}, "application/json")
    assert response.status_code == 409
    assert response.json()["current"]["points"] == 2
    assert Score.objects.get(pk=assigned.pk).points == 2


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"points": 4, "version": 0}, "points_out_of_range"),
        ({"points": None, "version": 0}, "points_required"),
        ({"points": "tre", "version": 0}, "invalid"),
        ({"points": 2, "criteria_points": {"a": 1}, "version": 0}, "unknown_criterion"),
    ],
)
def test_points_out_of_range_are_refused(world, client, assigned, body, code):
    client.force_login(world.staff[Role.ASSESSOR])
    response = client.put(_url(world, assigned), body, "application/json")
    assert response.status_code == 400
    assert response.json()["code"] == code


@pytest.fixture
def with_criteria(assigned):
    """The essay's guide gives points per part: c1 up to 1, c2 up to 2 (the item's 3)."""
    assigned.item.scoring_criteria = "E: ställer upp ett samband (1 p). C: löser problemet (2 p)."
    assigned.item.save(update_fields=["scoring_criteria"])
    return assigned


def test_criteria_points_add_up_to_the_points(world, client, with_criteria):
    client.force_login(world.staff[Role.ASSESSOR])
    response = client.put(
        _url(world, with_criteria),
        {"points": None, "criteria_points": {"c1": 1, "c2": 1}, "version": 0},
        "application/json",
    )
    assert response.status_code == 200, response.content
    stored = Score.objects.get(pk=with_criteria.pk)
    assert (stored.points, stored.criteria_points) == (2, {"c1": 1, "c2": 1})


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"points": 3, "criteria_points": {"c1": 1, "c2": 1}, "version": 0}, "bad_sum"),
        ({"criteria_points": {"c1": 2, "c2": 0}, "version": 0}, "points_out_of_range"),
        ({"criteria_points": {"c1": 1}, "version": 0}, "criteria_missing"),
        ({"criteria_points": {"c1": 1, "c2": 0, "c3": 1}, "version": 0}, "unknown_criterion"),
    ],
)
def test_each_criterion_is_checked_against_its_own_maximum(
    world, client, with_criteria, body, code
):
    client.force_login(world.staff[Role.ASSESSOR])
    response = client.put(_url(world, with_criteria), body, "application/json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert Score.objects.get(pk=with_criteria.pk).version == 0


@pytest.mark.parametrize(("source", "code"), [("machine", "machine_score"), ("decided", "decided")])
def test_a_machine_or_decided_score_is_refused_by_the_service(world, assigned, source, code):
    # given a response assigned to the assessor whose score is no longer a person's
    Score.objects.filter(pk=assigned.pk).update(source=source, points=1)
    # when the assessor saves it, then the service refuses and nothing changes
    with pytest.raises(ScoreRefused) as refused:
        score_save(
            actor=world.staff[Role.ASSESSOR],
            score=assigned,
            points=2,
            criteria_points=None,
            comment="",
            version=0,
        )
    assert refused.value.code == code
    assert Score.objects.get(pk=assigned.pk).points == 1
    assert not AuditEvent.objects.filter(action="score.save").exists()


def test_a_version_that_is_not_a_number_is_refused(world, assigned):
    with pytest.raises(ScoreRefused) as refused:
        score_save(
            actor=world.staff[Role.ASSESSOR],
            score=assigned,
            points=1,
            criteria_points=None,
            comment="",
            version="x",
        )
    assert refused.value.code == "bad_version"


@pytest.mark.parametrize(
    "role", [Role.TEACHER, Role.ASSESSMENT_LEAD, Role.HEAD_TEACHER, Role.OTHER_STAFF]
)
def test_anyone_but_the_assigned_assessor_gets_404(world, client, assigned, role):
    client.force_login(world.staff[role])
    assert client.get(_url(world, assigned)).status_code == 404
    response = client.put(_url(world, assigned), {"points": 1, "version": 0}, "application/json")
    assert response.status_code == 404
    assert Score.objects.get(pk=assigned.pk).points is None


def test_a_machine_score_is_not_saved_through_the_assessor_operation(world, client, assigned):
    machine = Score.objects.get(attempt=assigned.attempt, item__identifier="single")
    client.force_login(world.staff[Role.ASSESSOR])
    response = client.put(_url(world, machine), {"points": 0, "version": 0}, "application/json")
    assert response.status_code == 404


def test_the_same_score_through_another_units_url_is_not_found(world, client, assigned):
    client.force_login(world.staff[Role.ASSESSOR])
    response = client.get(_url(world, assigned, unit=world.sibling_unit))
    assert response.status_code == 404


def test_two_saves_on_one_version_give_one_conflict_and_no_lost_score(world, assigned):
    assessor = world.staff[Role.ASSESSOR]
    first = score_save(
        actor=assessor, score=assigned, points=1, criteria_points={}, comment="", version=0
    )
    with pytest.raises(ScoreConflict) as conflict:
        score_save(
            actor=assessor, score=assigned, points=3, criteria_points={}, comment="", version=0
        )
    assert conflict.value.current.points == 1
    assert Score.objects.get(pk=assigned.pk).points == first.points == 1
    assert GradingAssignment.objects.get(score=assigned).assessor == assessor.person
