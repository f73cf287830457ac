"""Distribution by the lead: preview, confirm, redistribute, late students; and its refusals."""

from __future__ import annotations

import pytest

from grading.models import GradingAssignment, GradingPlan, Score
from provplattform.models import AuditEvent
from schools.roles import Role
from schools.services import role_assign
from tests.factories import staff_member, student
from tests.grading.helpers import grading_sitting, submitted_attempt


def _url(world, sitting, tail=""):
    return (
        f"/api/v1/units/{world.unit.public_id}/grading/subtests/{sitting.subtest.public_id}/{tail}"
    )


@pytest.fixture
def graded(world):
    """Six students submitted a subtest with two essays (3 p each) at world.unit."""
    sitting = grading_sitting(world.unit)
    for person in world.students_a + world.students_b:
        submitted_attempt(sitting, person)
    return sitting


def _assessors(world):
    return [world.staff[Role.ASSESSOR].person, world.staff[Role.TEACHER].person]


def _body(people, **extra):
    return {"assessors": [str(p.public_id) for p in people], **extra}


def test_lead_previews_then_confirms_a_distribution_by_student(world, client, graded):
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    people = _assessors(world)
    # when the lead previews
    preview = client.post(_url(world, graded, "preview/"), _body(people), "application/json")
    # then each assessor gets three students' two essays, and nothing is stored
    assert preview.status_code == 200, preview.content
    shares = preview.json()["shares"]
    assert sorted(s["responses"] for s in shares) == [6, 6]
    assert sorted(s["load"] for s in shares) == [18, 18]
    assert not GradingAssignment.objects.exists()
    # when they confirm
    confirmed = client.post(_url(world, graded, "distribution/"), _body(people), "application/json")
    # then every essay response is assigned once, whole students to one assessor, audited once
    assert confirmed.status_code == 201, confirmed.content
    essays = Score.objects.filter(item__kind="extended_text")
    assert GradingAssignment.objects.count() == essays.count() == 12
    for person in world.students_a + world.students_b:
        holders = GradingAssignment.objects.filter(score__attempt__person=person)
        assert holders.values("assessor").distinct().count() == 1
    assert AuditEvent.objects.filter(action="grading.distribute").count() == 1
    # and a second confirm is refused
    again = client.post(_url(world, graded, "distribution/"), _body(people), "application/json")
    assert again.status_code == 409


def test_by_item_gives_each_assessor_one_essay(world, client, graded):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    response = client.post(
        _url(world, graded, "distribution/"),
        _body(_assessors(world), mode="by_item"),
        "application/json",
    )
    assert response.status_code == 201, response.content
    per_assessor = {
        a: set(
            GradingAssignment.objects.filter(assessor=a).values_list(
                "score__item__identifier", flat=True
            )
        )
        for a in _assessors(world)
    }
    assert sorted(map(sorted, per_assessor.values())) == [["essay0"], ["essay1"]]


def test_avoid_own_groups_keeps_the_teacher_off_their_own_students(world, client, graded):
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    client.post(
        _url(world, graded, "distribution/"),
        _body(_assessors(world), own_groups="avoid"),
        "application/json",
    )
    teacher = world.staff[Role.TEACHER].person  # teaches group_a
    mine = GradingAssignment.objects.filter(assessor=teacher)
    assert not mine.filter(score__attempt__person__in=world.students_a).exists()


def test_only_staff_who_may_assess_can_be_chosen(world, client, graded):
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    other_staff = world.staff[Role.OTHER_STAFF].person
    response = client.post(
        _url(world, graded, "preview/"), _body([other_staff]), "application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "not_an_assessor"
    sibling = staff_member(world.sibling_unit, duty_role="Lärare")
    role_assign(
        actor=None, person=sibling.person, school_unit=world.sibling_unit, role=Role.TEACHER
    )
    response = client.post(
        _url(world, graded, "preview/"), _body([sibling.person]), "application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("role", [Role.ASSESSOR, Role.TEACHER, Role.PROCTOR, Role.OTHER_STAFF])
def test_only_the_lead_and_administrators_distribute(world, client, graded, role):
    client.force_login(world.staff[role])
    for tail in ("preview/", "distribution/", "redistribution/"):
        response = client.post(
            _url(world, graded, tail), _body(_assessors(world)), "application/json"
        )
        assert response.status_code == 404, (tail, response.status_code)
    assert not GradingAssignment.objects.exists()


def test_redistribution_moves_only_unassessed_responses(world, client, graded):
    lead = world.staff[Role.ASSESSMENT_LEAD]
    client.force_login(lead)
    ill = world.staff[Role.ASSESSOR].person
    client.post(_url(world, graded, "distribution/"), _body(_assessors(world)), "application/json")
    # the ill assessor had assessed one response
    done = GradingAssignment.objects.filter(assessor=ill).first()
    Score.objects.filter(pk=done.score_id).update(points=1, source="person")
    # a newcomer takes over with the teacher
    newcomer = staff_member(world.unit, duty_role="Lärare")
    role_assign(actor=None, person=newcomer.person, school_unit=world.unit, role=Role.ASSESSOR)
    people = [world.staff[Role.TEACHER].person, newcomer.person]
    preview = client.post(
        _url(world, graded, "redistribution/"),
        _body(people, preview=True),
        "application/json",
    )
    assert preview.status_code == 200, preview.content
    assert GradingAssignment.objects.filter(assessor=ill).count() == 6
    response = client.post(
        _url(world, graded, "redistribution/"), _body(people, reason="Sjuk"), "application/json"
    )
    assert response.status_code == 200, response.content
    assert list(GradingAssignment.objects.filter(assessor=ill)) == [done]
    assert GradingAssignment.objects.count() == 12
    event = AuditEvent.objects.get(action="grading.redistribute")
    assert event.reason == "Sjuk" and event.after["moved"] == 5


def test_a_student_who_sits_late_joins_without_moving_anyone(world, client, graded):
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    client.post(_url(world, graded, "distribution/"), _body(_assessors(world)), "application/json")
    before = dict(GradingAssignment.objects.values_list("score_id", "assessor_id"))
    late = student(world.unit)
    submitted_attempt(graded, late)
    after = dict(GradingAssignment.objects.values_list("score_id", "assessor_id"))
    assert {k: after[k] for k in before} == before
    added = GradingAssignment.objects.filter(score__attempt__person=late)
    assert added.count() == 2 and added.values("assessor").distinct().count() == 1
    assert AuditEvent.objects.filter(action="grading.assign_late").count() == 1


def test_nothing_to_distribute_is_refused(world, client):
    sitting = grading_sitting(world.unit)
    submitted_attempt(sitting, world.students_a[0])
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    GradingPlan.objects.all().delete()
    Score.objects.filter(item__kind="extended_text").delete()
    response = client.post(
        _url(world, sitting, "preview/"), _body(_assessors(world)), "application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "nothing_to_assess"
