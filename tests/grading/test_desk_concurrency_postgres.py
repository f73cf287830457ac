"""Two assessors' sessions saving the same response at the same moment, on PostgreSQL: one is
saved, the other answers 409 with it; no acknowledged score is lost."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from grading.models import Score, ScoreSource
from schools.roles import Role
from tests.grading.desk_helpers import assign_all, graded_subtest, submitted_attempts
from tests.world import build_world

pytestmark = [
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="row locks need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_simultaneous_saves_give_one_conflict_and_no_lost_score():
    world = build_world()
    subtest, items = graded_subtest(open_items=1, closed_items=0)
    submitted_attempts(unit=world.unit, subtest=subtest, items=items, count=1)
    assessor = world.staff[Role.ASSESSOR]
    assign_all(unit=world.unit, subtest=subtest, assessor_person=assessor.person)
    score = Score.objects.get(source=ScoreSource.PERSON)
    url = reverse("api-desk-score", args=[world.unit.public_id, score.public_id])
    barrier = threading.Barrier(2)
    answers: dict[int, tuple[int, dict]] = {}

    def save(points: int) -> None:
        client = Client()
        client.force_login(assessor)
        barrier.wait()
        response = client.put(url, {"points": points, "version": 0}, "application/json")
        answers[points] = (response.status_code, response.json())
        connection.close()

    threads = [threading.Thread(target=save, args=(p,)) for p in (1, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _body in answers.values())
    assert statuses == [200, 409]
    winner = next(p for p, (status, _body) in answers.items() if status == 200)
    loser = next(body for status, body in answers.values() if status == 409)
    stored = Score.objects.get(pk=score.pk)
    assert (stored.points, stored.version) == (winner, 1)
    assert loser["current"]["points"] == winner
