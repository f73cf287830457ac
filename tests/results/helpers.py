"""A sat test with scores: a Norwegian mapping test (two subtests with thresholds) or a Swedish
national test with an oral part, sat by the standard world's students."""

from __future__ import annotations

import datetime

from django.utils import timezone

from delivery.models import Attempt, AttemptStatus
from exams.models import Assignment, AssignmentSource, ItemKind, Programme, Sitting
from grading.models import Score, ScoreSource, SubtestEntry
from tests.factories import ItemFactory, RoomFactory, SubtestFactory, TestDefinitionFactory


def mapping_test(*, thresholds=(3, 2), items=(5, 4), test_threshold=None):
    test = TestDefinitionFactory(
        programme=Programme.NO_MAPPING, title="Lesing 2. trinn", concern_threshold=test_threshold
    )
    for position, (threshold, count) in enumerate(zip(thresholds, items, strict=True)):
        subtest = SubtestFactory(
            test=test, position=position, code=f"L{position + 1}", concern_threshold=threshold
        )
        for index in range(count):
            ItemFactory(subtest=subtest, position=index, kind=ItemKind.SINGLE_CHOICE)
    return test


def national_test(*, boundaries=None, requirements=None):
    test = TestDefinitionFactory(
        programme=Programme.SE_NATIONAL,
        title="Nationellt prov i matematik",
        grade_boundaries=boundaries or {"E": 4, "C": 7, "A": 9},
    )
    if requirements is not None:
        test.grade_requirements = requirements
        test.save(update_fields=["grade_requirements"])
    written = SubtestFactory(test=test, position=0, code="B", on_platform=True)
    for index in range(8):
        ItemFactory(subtest=written, position=index, kind=ItemKind.EXTENDED_TEXT)
    SubtestFactory(test=test, position=1, code="A", on_platform=False, max_points=4)
    return test


def sit(unit, subtest, students, *, status=AttemptStatus.SUBMITTED):
    """Assign and sit `subtest` for `students`; returns their attempts."""
    sitting = Sitting.objects.create(
        school_unit=unit,
        subtest=subtest,
        room=RoomFactory(school_unit=unit),
        starts_at=timezone.now() - datetime.timedelta(days=1),
    )
    attempts = []
    for person in students:
        Assignment.objects.get_or_create(
            school_unit=unit,
            subtest=subtest,
            person=person,
            defaults={"source": AssignmentSource.STUDENT},
        )
        attempts.append(Attempt.objects.create(sitting=sitting, person=person, status=status))
    return attempts


def score(attempt, points):
    """Scores for an attempt's items in order; None leaves an item unassessed."""
    items = list(attempt.sitting.subtest.items.order_by("position"))
    for item, value in zip(items, points, strict=True):
        Score.objects.update_or_create(
            attempt=attempt,
            item=item,
            defaults={"points": value, "source": ScoreSource.MACHINE},
        )


def enter(unit, subtest, person, points):
    return SubtestEntry.objects.update_or_create(
        school_unit=unit,
        person=person,
        subtest=subtest,
        defaults={"points": points, "source": "off_platform"},
    )[0]
