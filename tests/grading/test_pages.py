"""The grading pages: overview, preview then confirm, redistribution, due date."""

from __future__ import annotations

import pytest

from grading.models import GradingAssignment, GradingPlan
from schools.roles import Role
from tests.grading.helpers import grading_sitting, submitted_attempt


@pytest.fixture
def sat(world):
    sitting = grading_sitting(world.unit)
    for person in world.students_a + world.students_b:
        submitted_attempt(sitting, person)
    return sitting


def _form(world, **extra):
    return {
        "assessors": [
            str(world.staff[Role.ASSESSOR].person.public_id),
            str(world.staff[Role.TEACHER].person.public_id),
        ],
        "mode": "by_student",
        "own_groups": "any",
        **extra,
    }


def test_the_lead_previews_and_confirms_on_the_page(world, client, sat):
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    base = f"/units/{world.unit.public_id}/grading/{sat.subtest.public_id}/"
    overview = client.get(f"/units/{world.unit.public_id}/grading/")
    assert sat.subtest.title in overview.content.decode()
    preview = client.post(base + "distribution/", _form(world))
    body = preview.content.decode()
    assert preview.status_code == 200 and "Confirm" in body
    assert world.staff[Role.TEACHER].person.full_name in body
    assert not GradingAssignment.objects.exists()
    confirmed = client.post(base + "distribution/", _form(world, confirm="1"))
    assert confirmed.status_code == 302
    assert GradingAssignment.objects.count() == 12
    # the same form now redistributes: to the teacher alone
    again = client.post(
        base + "distribution/",
        {
            **_form(world, confirm="1", reason="Sjuk"),
            "assessors": [str(world.staff[Role.TEACHER].person.public_id)],
        },
    )
    assert again.status_code == 302
    assert set(GradingAssignment.objects.values_list("assessor", flat=True)) == {
        world.staff[Role.TEACHER].person.pk
    }


def test_a_form_without_assessors_is_refused_on_the_page(world, client, sat):
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    base = f"/units/{world.unit.public_id}/grading/{sat.subtest.public_id}/"
    response = client.post(base + "distribution/", _form(world, assessors=[]))
    assert response.status_code == 400
    response = client.post(base + "distribution/", _form(world, mode="mixed"))
    assert response.status_code == 400
    assert "Choose the items graded by item." in response.content.decode()


def test_the_lead_sets_the_grading_date(world, client, sat):
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    base = f"/units/{world.unit.public_id}/grading/{sat.subtest.public_id}/"
    assert client.post(base + "due-date/", {"due_date": "2030-06-01"}).status_code == 302
    assert str(GradingPlan.objects.get().due_date) == "2030-06-01"
    assert client.post(base + "due-date/", {"due_date": "not a date"}).status_code == 400


def test_the_menu_offers_grading_to_the_lead_only(world, client, sat):
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    url = f"/units/{world.unit.public_id}/grading/"
    assert url in client.get(f"/units/{world.unit.public_id}/").content.decode()
    client.force_login(world.staff[Role.ASSESSOR])
    assert url not in client.get(f"/units/{world.unit.public_id}/").content.decode()
