"""Building blocks for the attempt, login and autosave tests: a sitting today with items."""

from __future__ import annotations

import datetime

from django.utils import timezone

from delivery import attempts, devices
from delivery.models import Attempt
from exams.models import DayPassword, ItemKind, Sitting, SittingProctor, SittingStudent
from schools.roles import Role
from tests.factories import ItemFactory, RoomFactory, SubtestFactory

DAY_PASSWORD = "KRTZ4PQM"


def local_at(hour: int, minute: int = 0, *, days: int = 0) -> datetime.datetime:
    """Today (plus `days`) at hour:minute, Stockholm time."""
    date = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(date, datetime.time(hour, minute)))


def make_sitting(world, *, unit=None, starts_at=None, students=None, duration_minutes=45):
    unit = unit or world.unit
    subtest = SubtestFactory(duration_minutes=duration_minutes)
    kinds = [
        (ItemKind.SINGLE_CHOICE, {}),
        (ItemKind.MULTIPLE_CHOICE, {"answer_key": ["A", "B"]}),
        (ItemKind.TEXT_ENTRY, {"choices": [], "answer_key": ["sju"]}),
        (ItemKind.NUMERIC, {"choices": [], "answer_key": {"value": 3.5, "tolerance": 0.1}}),
        (ItemKind.EXTENDED_TEXT, {"choices": [], "answer_key": []}),
    ]
    for position, (kind, extra) in enumerate(kinds):
        ItemFactory(subtest=subtest, kind=kind, position=position, **extra)
    sitting = Sitting.objects.create(
        school_unit=unit,
        subtest=subtest,
        room=RoomFactory(school_unit=unit),
        starts_at=starts_at or local_at(9),
    )
    if students is None:
        students = world.students_a if unit == world.unit else []
    for person in students:
        SittingStudent.objects.create(sitting=sitting, person=person)
    if unit == world.unit:
        SittingProctor.objects.create(sitting=sitting, person=world.staff[Role.PROCTOR].person)
    DayPassword.objects.get_or_create(
        school_unit=unit,
        date=timezone.localtime(sitting.starts_at).date(),
        defaults={"password": DAY_PASSWORD},
    )
    return sitting


def proctor(world):
    return world.staff[Role.PROCTOR]


def started_attempt(world, sitting, person=None) -> tuple[Attempt, str]:
    """Release to one student, log them in, start: (attempt, device token)."""
    person = person or sitting.placements.first().person
    released = Attempt.objects.filter(
        sitting=sitting, person=person, released_at__isnull=False
    ).exists()
    if not released:  # releasing a released student again is refused
        attempts.attempt_release(actor=proctor(world), sitting=sitting, person=person)
    attempt = Attempt.objects.get(sitting=sitting, person=person)
    attempt, token, _ = devices.attempt_login(attempt=attempt)
    attempt = attempts.attempt_start(attempt=attempt)
    return attempt, token
