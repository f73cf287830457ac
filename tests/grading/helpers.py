"""A sitting at a unit with submitted attempts: the starting point of grading tests."""

from __future__ import annotations

import datetime

from django.utils import timezone

from delivery import attempts
from delivery.models import Attempt, AttemptStatus, Response
from exams.models import ItemKind, Sitting, SittingStudent
from tests.factories import ItemFactory, RoomFactory, SubtestFactory

ANSWERS = {"single": ["B"], "multiple": ["A"], "text": "Sju", "numeric": "3,5", "essay": "Text"}


def grading_sitting(unit, *, essays: int = 2, essay_points: int = 3):
    """A subtest with four closed items (single 1 p, multiple 2 p, text 1 p, numeric 2 p) and
    `essays` extended-text items, and a sitting of it at `unit`."""
    subtest = SubtestFactory()
    ItemFactory(subtest=subtest, identifier="single", position=0)
    ItemFactory(
        subtest=subtest,
        identifier="multiple",
        position=1,
        kind=ItemKind.MULTIPLE_CHOICE,
        max_points=2,
        answer_key=["A", "B"],
    )
    ItemFactory(
        subtest=subtest,
        identifier="text",
        position=2,
        kind=ItemKind.TEXT_ENTRY,
        choices=[],
        answer_key=["sju"],
    )
    ItemFactory(
        subtest=subtest,
        identifier="numeric",
        position=3,
        kind=ItemKind.NUMERIC,
        max_points=2,
        choices=[],
        answer_key={"value": 3.5, "tolerance": 0.1},
    )
    for n in range(essays):
        ItemFactory(
            subtest=subtest,
            identifier=f"essay{n}",
            position=4 + n,
            kind=ItemKind.EXTENDED_TEXT,
            max_points=essay_points,
            choices=[],
            answer_key=[],
        )
    return Sitting.objects.create(
        school_unit=unit,
        subtest=subtest,
        room=RoomFactory(school_unit=unit),
        starts_at=timezone.now() - datetime.timedelta(hours=1),
    )


def working_attempt(sitting, person, answers: dict | None = None) -> Attempt:
    """A started attempt holding `answers` (item identifier -> content)."""
    SittingStudent.objects.get_or_create(sitting=sitting, person=person)
    now = timezone.now()
    attempt = Attempt.objects.create(
        sitting=sitting,
        person=person,
        status=AttemptStatus.WORKING,
        released_at=now,
        started_at=now - datetime.timedelta(minutes=30),
        duration_seconds=45 * 60,
        deadline=now + datetime.timedelta(minutes=15),
    )
    items = {i.identifier: i for i in sitting.subtest.items.all()}
    for identifier, content in (ANSWERS if answers is None else answers).items():
        if identifier == "essay":
            for name, item in items.items():
                if name.startswith("essay"):
                    Response.objects.create(attempt=attempt, item=item, content=content, seq=1)
        elif identifier in items:
            Response.objects.create(attempt=attempt, item=items[identifier], content=content, seq=1)
    return attempt


def submitted_attempt(sitting, person, answers: dict | None = None) -> Attempt:
    return attempts.attempt_submit(attempt=working_attempt(sitting, person, answers))
