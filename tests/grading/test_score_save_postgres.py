"""Two saves of one response racing on PostgreSQL: one wins, the other gets the conflict."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection

from grading.models import GradingAssignment, GradingPlan, Score
from grading.scoring_services import ScoreConflict, score_save
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.grading.helpers import grading_sitting, submitted_attempt

pytestmark = [
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="row locks need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_two_saves_on_one_version_give_one_conflict_and_no_lost_score(world):
    sitting = grading_sitting(world.unit, essays=1)
    submitted_attempt(sitting, world.students_a[0])
    score = Score.objects.get(item__identifier="essay0")
    assessor = world.staff[Role.ASSESSOR]
    plan = GradingPlan.objects.create(school_unit=world.unit, subtest=sitting.subtest)
    GradingAssignment.objects.create(plan=plan, score=score, assessor=assessor.person)
    barrier = threading.Barrier(2)
    outcomes: dict[int, object] = {}

    def save(points: int) -> None:
        try:
            barrier.wait()
            outcomes[points] = score_save(
                actor=assessor,
                score=score,
                points=points,
                criteria_points={},
                comment="",
                version=0,
            )
        except ScoreConflict as conflict:
            outcomes[points] = conflict
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(p,)) for p in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    saved = [o for o in outcomes.values() if isinstance(o, Score)]
    refused = [o for o in outcomes.values() if isinstance(o, ScoreConflict)]
    assert len(saved) == 1 and len(refused) == 1
    stored = Score.objects.get(pk=score.pk)
    assert (stored.points, stored.version) == (saved[0].points, 1)
    assert refused[0].current.points == saved[0].points
    assert AuditEvent.objects.filter(action="score.save").count() == 1
