"""Machine scoring on submit, and rescoring after the operator corrects a key."""

from __future__ import annotations

import datetime

import pytest

from delivery import attempts, closing
from exams.definitions.key_corrections import item_key_correct
from exams.definitions.rules import DefinitionRefused
from grading import hooks
from grading.models import GradingAssignment, Score, ScoreSource
from grading.scoring_services import score_save
from provplattform.models import AuditEvent
from tests.factories import UserFactory
from tests.grading.helpers import grading_sitting, submitted_attempt, working_attempt


@pytest.fixture
def operator(db):
    return UserFactory(is_platform_operator=True)


@pytest.fixture
def notified():
    calls = []

    def record(**kwargs):
        calls.append(kwargs)

    hooks.on_scores_changed(record)
    yield calls
    hooks.scores_changed.remove(record)


def _points(attempt) -> dict:
    return dict(Score.objects.filter(attempt=attempt).values_list("item__identifier", "points"))


def test_submit_scores_closed_items_and_leaves_essays_to_a_person(
    world, notified, django_capture_on_commit_callbacks
):
    sitting = grading_sitting(world.unit)
    with django_capture_on_commit_callbacks(execute=True):  # subscribers hear after commit
        attempt = submitted_attempt(sitting, world.students_a[0])

    assert _points(attempt) == {
        "single": 1,
        "multiple": 0,
        "text": 1,
        "numeric": 2,
        "essay0": None,
        "essay1": None,
    }
    closed = Score.objects.filter(attempt=attempt, source=ScoreSource.MACHINE)
    assert closed.count() == 4 and not closed.filter(assessed_by__isnull=False).exists()
    assert Score.objects.filter(attempt=attempt, source=ScoreSource.PERSON).count() == 2
    assert notified[-1]["subtest_ids"] == [sitting.subtest_id]
    assert notified[-1]["person_ids"] == [world.students_a[0].pk]


def test_unanswered_items_get_a_score_row_too(world):
    sitting = grading_sitting(world.unit)
    attempt = submitted_attempt(sitting, world.students_a[0], answers={})
    assert _points(attempt) == {
        "single": 0,
        "multiple": 0,
        "text": 0,
        "numeric": 0,
        "essay0": None,
        "essay1": None,
    }


def test_automatic_submit_scores_as_well(world):
    sitting = grading_sitting(world.unit)
    attempt = working_attempt(sitting, world.students_a[0])
    attempt.started_at -= datetime.timedelta(hours=2)
    attempt.deadline -= datetime.timedelta(hours=2)
    attempt.save()
    assert closing.attempts_auto_submit_due() == 1
    assert _points(attempt)["numeric"] == 2


def test_key_correction_rescores_exactly_the_affected_scores(
    world, operator, notified, django_capture_on_commit_callbacks
):
    # given three students: one chose A and B, one chose A, one did not answer
    sitting = grading_sitting(world.unit)
    both = submitted_attempt(sitting, world.students_a[0], {"multiple": ["A", "B"]})
    only_a = submitted_attempt(sitting, world.students_a[1], {"multiple": ["A"]})
    blank = submitted_attempt(sitting, world.students_a[2], {})
    item = sitting.subtest.items.get(identifier="multiple")
    before = {a.pk: Score.objects.get(attempt=a, item=item).version for a in (both, only_a)}
    # when the operator corrects the key to A alone
    with django_capture_on_commit_callbacks(execute=True):
        item_key_correct(actor=operator, item=item, key={"correct": ["A"]}, points=2, reason="Fel")
    # then A alone now scores, A and B no longer; the blank one is unchanged
    scores = {s.attempt_id: s for s in Score.objects.filter(item=item)}
    assert scores[only_a.pk].points == 2 and scores[both.pk].points == 0
    assert scores[blank.pk].points == 0 and scores[blank.pk].version == 0
    assert scores[only_a.pk].version == before[only_a.pk] + 1
    rescored = AuditEvent.objects.filter(action="score.rescore")
    assert rescored.count() == 2
    assert {e.reason for e in rescored} == {"Fel"}
    assert set(notified[-1]["person_ids"]) == {world.students_a[0].pk, world.students_a[1].pk}
    # other items untouched
    assert not Score.objects.exclude(item=item).filter(version__gt=0).exists()


def test_points_correction_rescores_and_never_overwrites_a_persons_score(world, operator):
    sitting = grading_sitting(world.unit)
    attempt = submitted_attempt(sitting, world.students_a[0])
    other = submitted_attempt(sitting, world.students_a[1])
    item = sitting.subtest.items.get(identifier="single")
    # a person overrode one machine score
    Score.objects.filter(attempt=other, item=item).update(points=0, source=ScoreSource.OVERRIDE)

    item_key_correct(actor=operator, item=item, key={"correct": ["B"]}, points=3, reason="Poäng")

    assert Score.objects.get(attempt=attempt, item=item).points == 3
    assert Score.objects.get(attempt=other, item=item).points == 0


def test_only_the_operator_corrects_a_key_and_needs_a_reason(world, operator):
    sitting = grading_sitting(world.unit)
    item = sitting.subtest.items.get(identifier="single")
    with pytest.raises(DefinitionRefused):
        item_key_correct(actor=world.staff["head_teacher"], item=item, key={}, points=1, reason="x")
    with pytest.raises(DefinitionRefused):
        item_key_correct(actor=operator, item=item, key={"correct": ["A"]}, points=1, reason=" ")


def test_resubmitting_a_reopened_attempt_keeps_a_persons_score(world):
    sitting = grading_sitting(world.unit)
    attempt = submitted_attempt(sitting, world.students_a[0])
    essay = Score.objects.get(attempt=attempt, item__identifier="essay0")
    assessor = world.staff["assessor"]
    GradingAssignment.objects.create(
        plan=_plan(world.unit, sitting.subtest), score=essay, assessor=assessor.person
    )
    score_save(actor=assessor, score=essay, points=2, criteria_points={}, comment="", version=0)
    attempt.status = "working"
    attempt.save()
    attempts.attempt_submit(attempt=attempt)
    assert Score.objects.get(pk=essay.pk).points == 2
    assert Score.objects.filter(attempt=attempt).count() == 6


def _plan(unit, subtest):
    from grading.models import GradingPlan

    return GradingPlan.objects.get_or_create(school_unit=unit, subtest=subtest)[0]


def test_operator_corrects_a_key_on_the_page_and_others_get_404(world, client, operator):
    sitting = grading_sitting(world.unit)
    attempt = submitted_attempt(sitting, world.students_a[0], {"single": ["A"]})
    item = sitting.subtest.items.get(identifier="single")
    url = f"/operator/items/{item.public_id}/correct-key/"
    for user in (world.staff["head_teacher"], world.outsider):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"key": "A", "points": 1, "reason": "x"}).status_code == 404
    client.force_login(operator)
    assert client.get(url).status_code == 200
    refused = client.post(url, {"key": "Q", "points": 1, "reason": "Fel"})
    assert refused.status_code == 400
    response = client.post(url, {"key": "A", "points": 1, "reason": "Fel nyckel"})
    assert response.status_code == 302
    assert Score.objects.get(attempt=attempt, item=item).points == 1
