"""Completeness: progress per subtest, assessor and item; the unassessed list; the grading date
on the dashboard; reminders; results unlock only when everything is assessed."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from grading import selectors
from grading.models import GradingAssignment, Score
from grading.reminders import reminders_send
from grading.scoring_services import score_save
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.grading.helpers import grading_sitting, submitted_attempt


@pytest.fixture
def distributed(world, client):
    """Three students, two essays each, all with the assessor; grading date in two days."""
    sitting = grading_sitting(world.unit)
    for person in world.students_a:
        submitted_attempt(sitting, person)
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    base = f"/api/v1/units/{world.unit.public_id}/grading/subtests/{sitting.subtest.public_id}/"
    assessor = world.staff[Role.ASSESSOR]
    response = client.post(
        base + "distribution/", {"assessors": [str(assessor.person.public_id)]}, "application/json"
    )
    assert response.status_code == 201
    due = timezone.localdate() + datetime.timedelta(days=2)
    assert (
        client.put(
            base + "due-date/", {"due_date": due.isoformat()}, "application/json"
        ).status_code
        == 200
    )
    client.logout()
    return sitting, base


def _assess_all(world, sitting, *, leave: int = 0):
    assessor = world.staff[Role.ASSESSOR]
    scores = list(
        Score.objects.filter(attempt__sitting=sitting, points__isnull=True).order_by("pk")
    )
    for score in scores[leave:]:
        score_save(actor=assessor, score=score, points=1, criteria_points={}, comment="", version=0)


def test_progress_per_assessor_and_item_and_the_unassessed_list(world, client, distributed):
    sitting, base = distributed
    _assess_all(world, sitting, leave=2)
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    data = client.get(base).json()
    assert data["progress"] == {"assigned": 18, "assessed": 16, "remaining": 2}
    assert data["complete"] is False
    [row] = data["by_assessor"]
    assert (row["assigned"], row["assessed"], row["remaining"], row["load"]) == (6, 4, 2, 18)
    essays = [r for r in data["by_item"] if r["person_graded"]]
    assert sum(r["remaining"] for r in essays) == 2
    unassessed = client.get(base + "unassessed/").json()
    assert len(unassessed) == 2
    page = client.get(
        f"/units/{world.unit.public_id}/grading/{sitting.subtest.public_id}/unassessed/"
    )
    assert page.status_code == 200


def test_the_overview_reads_each_subtest_as_its_own_page_does(world, client, distributed):
    # The overview reads every subtest at once (no query per row): it must agree with the
    # per-subtest readings at every stage.
    sitting, base = distributed
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    overview = f"/api/v1/units/{world.unit.public_id}/grading/subtests/"
    for leave in (None, 1, 0):
        if leave is not None:
            _assess_all(world, sitting, leave=leave)
        [row] = selectors.subtests_overview(school_unit=world.unit)
        own = client.get(base).json()
        assert row["progress"] == selectors.subtest_progress(
            school_unit=world.unit, subtest=sitting.subtest
        )
        assert row["complete"] == selectors.subtest_complete(world.unit, sitting.subtest)
        assert row["plan"] == selectors.plan_of(school_unit=world.unit, subtest=sitting.subtest)
        [listed] = client.get(overview).json()
        assert {k: listed[k] for k in ("progress", "plan", "complete")} == {
            k: own[k] for k in ("progress", "plan", "complete")
        }
    assert row["complete"]


def test_results_unlock_only_when_every_response_is_assessed(world, distributed):
    sitting, _base = distributed
    assert not selectors.subtest_complete(world.unit, sitting.subtest)
    _assess_all(world, sitting, leave=1)
    assert not selectors.subtest_complete(world.unit, sitting.subtest)
    _assess_all(world, sitting)
    assert selectors.subtest_complete(world.unit, sitting.subtest)
    # another unit's subtest with nothing submitted is never complete
    assert not selectors.subtest_complete(world.sibling_unit, sitting.subtest)


def test_the_dashboard_shows_the_grading_date_and_the_number_left(world, client, distributed):
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    page = client.get(f"/units/{world.unit.public_id}/").content.decode()
    assert "Grading dates" in page and "6 left" in page


def test_an_assessor_with_work_left_is_reminded_on_the_dashboard(world, client, distributed):
    client.force_login(world.staff[Role.ASSESSOR])
    page = client.get(f"/units/{world.unit.public_id}/").content.decode()
    assert "6 left to assess" in page
    assert "The grading date is near." in page


def test_the_reminder_mail_goes_once_a_day_to_assessors_with_work_left(world, distributed):
    assessor = world.staff[Role.ASSESSOR]
    assessor.email = "bedomare@example.org"
    assessor.save()
    assert reminders_send() == 1
    assert reminders_send() == 0
    assert mail.outbox[0].to == ["bedomare@example.org"]
    assert AuditEvent.objects.filter(action="grading.reminder").count() == 1


def test_no_reminder_without_work_left_or_far_from_the_date(world, distributed):
    sitting, _base = distributed
    world.staff[Role.ASSESSOR].email = "bedomare@example.org"
    world.staff[Role.ASSESSOR].save()
    assert reminders_send(today=timezone.localdate() - datetime.timedelta(days=10)) == 0
    _assess_all(world, sitting)
    assert reminders_send() == 0
    assert not GradingAssignment.objects.filter(score__points__isnull=True).exists()


def test_a_grading_date_that_has_passed_with_work_left_stays_on_the_dashboard(
    world, client, distributed
):
    from grading.models import GradingPlan

    GradingPlan.objects.update(due_date=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(world.staff[Role.ASSESSMENT_LEAD])
    page = client.get(f"/units/{world.unit.public_id}/").content.decode()
    assert "6 left" in page and "The date has passed." in page
