"""For any pool of assigned responses, share and set of second assessors: each item gets its share
(rounded up), no response goes to its own first assessor, no response is sampled twice, and
second assessors who are nobody's first assessor get loads that differ by at most one."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grading.models import GradingAssignment, Score, ScoreSource, SecondMarking
from grading.second_marking import second_marking_sample
from schools.roles import Role
from schools.services import role_assign
from tests.factories import staff_member
from tests.grading.desk_helpers import assign_all, graded_subtest, submitted_attempts


@pytest.fixture
def pool(world):
    subtest, items = graded_subtest(open_items=2, closed_items=0)
    submitted_attempts(unit=world.unit, subtest=subtest, items=items, count=7)
    assessors = []
    for _ in range(5):  # three first assessors, and two who assess nothing yet
        user = staff_member(world.unit, duty_role="Lärare")
        role_assign(actor=None, person=user.person, school_unit=world.unit, role=Role.ASSESSOR)
        assessors.append(user.person)
    scores = list(Score.objects.filter(item__subtest=subtest, source=ScoreSource.PERSON))
    for index, score in enumerate(scores):
        assign_all(unit=world.unit, subtest=subtest, assessor_person=assessors[index % 3],
                   scores=[score])  # fmt: skip
    world.subtest, world.items, world.assessors = subtest, items, assessors
    return world


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    percent=st.integers(min_value=1, max_value=100),
    chosen=st.sets(st.integers(min_value=0, max_value=4), min_size=1),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_a_sample_keeps_its_promises(pool, percent, chosen, seed):
    SecondMarking.objects.all().delete()
    second = [pool.assessors[i] for i in sorted(chosen)]
    created = second_marking_sample(
        actor=pool.staff[Role.ASSESSMENT_LEAD], school_unit=pool.unit, subtest=pool.subtest,
        assessors=second, percent=percent, seed=seed,
    )  # fmt: skip
    first_of = dict(GradingAssignment.objects.values_list("score_id", "assessor_id"))
    assert all(m.assessor_id != first_of[m.score_id] for m in created)
    assert len({m.score_id for m in created}) == len(created)
    for item in pool.items:
        wanted = math.ceil(7 * percent / 100)
        eligible = sum(
            1 for score_id, first in first_of.items()
            if Score.objects.get(pk=score_id).item_id == item.pk
            and any(p.pk != first for p in second)
        )  # fmt: skip
        got = sum(1 for m in created if m.score.item_id == item.pk)
        assert got <= wanted
        if len(second) > 1:
            assert got == wanted  # with two assessors someone other than the first is free
        else:
            assert got <= eligible
    loads = [sum(1 for m in created if m.assessor_id == p.pk) for p in second]
    if len(second) > 1 and chosen <= {3, 4}:
        assert max(loads) - min(loads) <= 1
