"""The assessor's desk: one's own queue only, saving with optimistic locking, audit, override."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grading.models import Score, ScoreFlag, ScoreSource
from provplattform.models import AuditEvent
from schools.roles import Role
from schools.services import role_assign
from tests.factories import staff_member
from tests.grading.desk_helpers import assign_all, graded_subtest, submitted_attempts


@pytest.fixture
def desk(world):
    """Two assessors at world.unit; the assessor's queue holds the first two students' answers,
    the teacher's the third's."""
    subtest, items = graded_subtest(criteria_item=True)
    attempts = submitted_attempts(unit=world.unit, subtest=subtest, items=items, count=3)
    assessor = world.staff[Role.ASSESSOR]
    teacher = world.staff[Role.TEACHER]
    mine = Score.objects.filter(attempt__in=attempts[:2], source=ScoreSource.PERSON)
    theirs = Score.objects.filter(attempt=attempts[2], source=ScoreSource.PERSON)
    assign_all(unit=world.unit, subtest=subtest, assessor_person=assessor.person, scores=mine)
    assign_all(unit=world.unit, subtest=subtest, assessor_person=teacher.person, scores=theirs)
    world.subtest, world.items, world.attempts = subtest, items, attempts
    world.mine = list(mine.order_by("item__position", "attempt_id"))
    world.theirs = list(theirs)
    return world


def _page(unit, score, name="grading-desk-response"):
    return reverse(name, args=[unit.public_id, score.public_id])


def _api(unit, score):
    return reverse("api-desk-score", args=[unit.public_id, score.public_id])


def test_the_queue_shows_only_ones_own_responses_with_progress(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    response = client.get(reverse("grading-desk", args=[desk.unit.public_id]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "0 of 4 assessed" in body
    for score in desk.mine:
        assert str(score.public_id) in body
    assert str(desk.theirs[0].public_id) not in body


def test_anonymous_mode_hides_names_until_switched_off(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    person = desk.attempts[0].person
    url = _page(desk.unit, desk.mine[0])
    assert person.family_name not in client.get(url).content.decode()
    shown = client.get(url + "?anonymous=0").content.decode()
    assert person.family_name in shown


def test_the_response_page_shows_item_stimulus_guide_and_answer(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    score = desk.mine[0]
    body = client.get(_page(desk.unit, score)).content.decode()
    assert 'class="stimulus"' in body
    assert "ställer upp ett samband" in body  # the scoring guide, split into criteria
    assert 'name="criterion-c1"' in body
    assert f"Svar 0 på {score.item.identifier}" in body


@pytest.mark.parametrize("name", ["grading-desk-response", "grading-desk-projector"])
def test_a_response_assigned_to_someone_else_is_not_found_on_the_page(desk, client, name):
    client.force_login(desk.staff[Role.ASSESSOR])
    assert client.get(_page(desk.unit, desk.theirs[0], name)).status_code == 404
    response = client.post(
        _page(desk.unit, desk.theirs[0]), {"points": "2", "version": "0", "comment": ""}
    )
    assert response.status_code == 404
    assert Score.objects.get(pk=desk.theirs[0].pk).points is None


def test_a_response_assigned_to_someone_else_is_not_found_in_the_api(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    target = desk.theirs[0]
    assert client.get(_api(desk.unit, target)).status_code == 404
    response = client.put(
        _api(desk.unit, target), {"points": 1, "version": 0}, content_type="application/json"
    )
    assert response.status_code == 404
    flag = reverse("api-desk-score-flag", args=[desk.unit.public_id, target.public_id])
    assert client.post(flag, {"flagged": True}, content_type="application/json").status_code == 404
    assert Score.objects.get(pk=target.pk).points is None
    assert not ScoreFlag.objects.exists()


def test_even_the_head_teacher_cannot_score_a_response_assigned_to_someone_else(desk, client):
    client.force_login(desk.staff[Role.HEAD_TEACHER])
    target = desk.mine[0]
    response = client.put(
        _api(desk.unit, target), {"points": 1, "version": 0}, content_type="application/json"
    )
    assert response.status_code == 404


def test_saving_through_the_api_is_audited_from_and_to(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    score = next(s for s in desk.mine if not s.item.scoring_criteria.startswith("E:"))
    response = client.put(
        _api(desk.unit, score),
        {"points": 2, "comment": "Bra", "version": 0},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 1
    stored = Score.objects.get(pk=score.pk)
    assert (stored.points, stored.comment, stored.assessed_by) == (
        2, "Bra", desk.staff[Role.ASSESSOR],
    )  # fmt: skip
    event = AuditEvent.objects.get(action="score.save", target_id=str(score.public_id))
    assert event.before["points"] is None and event.after["points"] == 2
    assert event.actor == desk.staff[Role.ASSESSOR]


def test_points_per_criterion_add_up(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    score = next(s for s in desk.mine if s.item.scoring_criteria.startswith("E:"))
    response = client.put(
        _api(desk.unit, score),
        {"criteria_points": {"c1": 1, "c2": 0, "c3": 1}, "version": 0},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    stored = Score.objects.get(pk=score.pk)
    assert stored.points == 2 and stored.criteria_points == {"c1": 1, "c2": 0, "c3": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"points": 4, "version": 0},
        {"points": -1, "version": 0},
        {"points": "tre", "version": 0},
        {"criteria_points": {"c1": 2, "c2": 0, "c3": 0}, "version": 0},
        {"criteria_points": {"c1": 1, "c2": 0}, "version": 0},
        {"criteria_points": {"c1": 1, "c2": 0, "c3": 0, "c9": 1}, "version": 0},
    ],
)
def test_points_out_of_range_are_refused_and_nothing_changes(desk, client, body):
    client.force_login(desk.staff[Role.ASSESSOR])
    score = next(s for s in desk.mine if s.item.scoring_criteria.startswith("E:"))
    response = client.put(_api(desk.unit, score), body, content_type="application/json")
    assert response.status_code == 400
    assert Score.objects.get(pk=score.pk).version == 0


def test_two_saves_from_the_same_version_give_one_conflict_and_no_lost_score(desk, client):
    # given two sessions that opened the same response at version 0
    client.force_login(desk.staff[Role.ASSESSOR])
    score = next(s for s in desk.mine if not s.item.scoring_criteria.startswith("E:"))
    first = client.put(
        _api(desk.unit, score), {"points": 3, "version": 0}, content_type="application/json"
    )
    # when the second saves from the stale version
    second = client.put(
        _api(desk.unit, score), {"points": 1, "version": 0}, content_type="application/json"
    )
    # then it is refused with the newer score, which stays
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["current"]["points"] == 3
    assert second.json()["current"]["version"] == 1
    assert Score.objects.get(pk=score.pk).points == 3
    assert AuditEvent.objects.filter(action="score.save").count() == 1


def test_a_stale_page_form_shows_the_newer_score(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    score = next(s for s in desk.mine if not s.item.scoring_criteria.startswith("E:"))
    client.post(_page(desk.unit, score), {"points": "3", "version": "0", "comment": "A"})
    response = client.post(_page(desk.unit, score), {"points": "1", "version": "0", "comment": ""})
    assert response.status_code == 409
    assert 'value="3"' in response.content.decode()
    assert Score.objects.get(pk=score.pk).points == 3


def test_the_page_form_saves_and_moves_on_to_the_next_response(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    score = next(s for s in desk.mine if not s.item.scoring_criteria.startswith("E:"))
    response = client.post(_page(desk.unit, score), {"points": "2", "version": "0"})
    assert response.status_code == 302
    assert Score.objects.get(pk=score.pk).points == 2


def test_filters_by_status_item_and_flag(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    first, second = desk.mine[0], desk.mine[-1]
    flag = reverse("api-desk-score-flag", args=[desk.unit.public_id, second.public_id])
    assert client.post(flag, {"flagged": True}, content_type="application/json").status_code == 200
    url = reverse("api-desk-scores", args=[desk.unit.public_id])
    flagged = client.get(url, {"flagged": "1"}).json()
    assert [row["id"] for row in flagged] == [str(second.public_id)]
    by_item = client.get(url, {"item": str(first.item.public_id)}).json()
    assert {row["item"] for row in by_item} == {str(first.item.public_id)}
    assert len(client.get(url, {"status": "unassessed"}).json()) == 4
    assert client.get(url, {"status": "assessed"}).json() == []


def test_a_machine_score_is_overridden_with_a_reason_and_audited(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    machine = Score.objects.get(attempt=desk.attempts[0], source=ScoreSource.MACHINE)
    url = reverse("api-desk-machine-score-override", args=[desk.unit.public_id, machine.public_id])
    refused = client.post(url, {"points": 0, "reason": "", "version": 0}, "application/json")
    assert refused.status_code == 400
    done = client.post(url, {"points": 0, "reason": "Fel nyckel", "version": 0}, "application/json")
    assert done.status_code == 200, done.content
    stored = Score.objects.get(pk=machine.pk)
    assert (stored.points, stored.source) == (0, ScoreSource.OVERRIDE)
    event = AuditEvent.objects.get(action="score.overridden")
    assert (event.before["points"], event.after["points"], event.reason) == (1, 0, "Fel nyckel")


def test_a_machine_score_of_another_assessors_student_is_not_found(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    machine = Score.objects.get(attempt=desk.attempts[2], source=ScoreSource.MACHINE)
    url = reverse("api-desk-machine-score-override", args=[desk.unit.public_id, machine.public_id])
    assert (
        client.post(url, {"points": 0, "reason": "x", "version": 0}, "application/json").status_code
        == 404
    )
    page = reverse("grading-desk-override", args=[desk.unit.public_id, machine.public_id])
    assert client.get(page).status_code == 404


def test_an_assessor_of_another_unit_sees_nothing(desk, client):
    other = staff_member(desk.sibling_unit, duty_role="Lärare")
    role_assign(actor=None, person=other.person, school_unit=desk.sibling_unit, role=Role.ASSESSOR)
    client.force_login(other)
    assert client.get(_page(desk.unit, desk.mine[0])).status_code == 404
    assert client.get(reverse("grading-desk", args=[desk.unit.public_id])).status_code == 404


def test_print_batch_and_paper_points_entry(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    printed = client.get(reverse("grading-desk-print", args=[desk.unit.public_id]))
    assert printed.status_code == 200
    body = printed.content.decode()
    assert body.count("desk-print__response") == 4
    score = next(s for s in desk.mine if not s.item.scoring_criteria.startswith("E:"))
    url = reverse("grading-desk-batch", args=[desk.unit.public_id])
    response = client.post(
        url, {f"points-{score.public_id}": "2", f"version-{score.public_id}": "0"}
    )
    assert response.status_code == 302
    assert Score.objects.get(pk=score.pk).points == 2


def test_the_queue_costs_the_same_number_of_queries_for_more_responses(
    desk, client, django_assert_max_num_queries
):
    client.force_login(desk.staff[Role.ASSESSOR])
    url = reverse("grading-desk", args=[desk.unit.public_id])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    more = submitted_attempts(unit=desk.unit, subtest=desk.subtest, items=desk.items, count=6)
    assign_all(
        unit=desk.unit,
        subtest=desk.subtest,
        assessor_person=desk.staff[Role.ASSESSOR].person,
        scores=Score.objects.filter(attempt__in=more, source=ScoreSource.PERSON),
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(url).content.decode()
    assert "0 of 16 assessed" in body


def test_the_projector_view_is_anonymous_even_with_names_shown_at_the_desk(desk, client):
    client.force_login(desk.staff[Role.ASSESSOR])
    person = desk.attempts[0].person
    client.get(reverse("grading-desk", args=[desk.unit.public_id]) + "?anonymous=0")
    body = client.get(_page(desk.unit, desk.mine[0], "grading-desk-projector")).content.decode()
    assert person.family_name not in body
    assert "<form" not in body  # nothing to press but previous and next
