"""Shared set-up for the before-the-day tests."""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils import timezone

from exams.models import Programme
from schools.models import Person
from schools.roles import Role
from tests.factories import RoomFactory, SubtestFactory, TestDefinitionFactory

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM)


def subtest_in_window(*, days_until_window: int = 0, length: int = 30, **test_kwargs):
    """A published Swedish subtest whose window starts `days_until_window` days from today."""
    start = timezone.localdate() + datetime.timedelta(days=days_until_window)
    test = TestDefinitionFactory(
        window_start=start, window_end=start + datetime.timedelta(days=length), **test_kwargs
    )
    return SubtestFactory(test=test)


def norwegian_subtest(**test_kwargs):
    return subtest_in_window(programme=Programme.NO_MAPPING, **test_kwargs)


def person_of(world, role: Role) -> Person:
    return world.staff[role].person


def room(world, name: str = "Sal 1"):
    from exams.models import Room

    return Room.objects.filter(school_unit=world.unit, name=name).first() or RoomFactory(
        school_unit=world.unit, name=name
    )


def transferred(*, created_days_ago: int, modified_days_ago: int, persons=None) -> None:
    """Date the organiser's transfer of persons (all by default) into the past.

    `update()` leaves `modified` alone, as a transfer without a real change does.
    """
    now = timezone.now()
    rows = (
        Person.objects.all()
        if persons is None
        else Person.objects.filter(pk__in=[p.pk for p in persons])
    )
    rows.update(
        created=now - datetime.timedelta(days=created_days_ago),
        modified=now - datetime.timedelta(days=modified_days_ago),
    )


def transferred_in_time(world) -> None:
    transferred(created_days_ago=60, modified_days_ago=40)
