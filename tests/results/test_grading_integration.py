"""Results follow grading without anyone asking: a submit's machine scoring and an assessor's
score each recompute the student's result after commit."""

import pytest

from grading.models import Score
from results.models import Incomplete, ResultSet, SubtestResult
from results.services import results_compute
from tests.grading.helpers import grading_sitting, submitted_attempt

pytestmark = pytest.mark.django_db


def test_submit_then_last_essay_scored_completes_the_result(
    world, django_capture_on_commit_callbacks
):
    sitting = grading_sitting(world.unit, essays=1, essay_points=3)
    person = world.students_a[0]
    # when the student submits: the closed items are machine-scored, the essay waits
    with django_capture_on_commit_callbacks(execute=True):
        submitted_attempt(sitting, person)
    result_set = ResultSet.objects.get(school_unit=world.unit, test=sitting.subtest.test)
    row = SubtestResult.objects.get(result_set=result_set, person=person)
    assert not row.complete and row.incomplete == Incomplete.ITEMS_UNASSESSED
    # when the essay gets its score (as grading writes it, with the hook)
    from grading.hooks import scores_changed_notify

    with django_capture_on_commit_callbacks(execute=True):
        Score.objects.filter(attempt__person=person, points__isnull=True).update(points=2)
        scores_changed_notify(
            school_unit_id=world.unit.id, subtest_ids=[sitting.subtest_id], person_ids=[person.id]
        )
    row.refresh_from_db()
    assert row.complete and row.points is not None and row.version == 2
    assert results_compute(school_unit=world.unit, test=sitting.subtest.test).version == 2


def test_a_submit_while_the_job_queue_is_down_still_computes_the_result(
    world, broker_away, django_capture_on_commit_callbacks
):
    # given Redis is down: the recomputation after the submit cannot be queued
    sitting = grading_sitting(world.unit, essays=0)
    person = world.students_a[0]
    # when the student submits
    with django_capture_on_commit_callbacks(execute=True):
        submitted_attempt(sitting, person)
    # then the submit stands and the result is computed in place
    result_set = ResultSet.objects.get(school_unit=world.unit, test=sitting.subtest.test)
    row = SubtestResult.objects.get(result_set=result_set, person=person)
    assert row.complete and row.points is not None
