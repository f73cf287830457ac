"""A sitting runs on its school's clock (the organiser's time zone), not the server's."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from delivery.attempts import release_allowed
from delivery.student_auth import todays_sitting
from tests.delivery.attempt_helpers import local_at, make_sitting

AUCKLAND = zoneinfo.ZoneInfo("Pacific/Auckland")


@pytest.fixture
def auckland_sitting(world):
    """A school in Auckland with a sitting at 09:00 on its own next morning."""
    organiser = world.unit.organiser
    organiser.time_zone = "Pacific/Auckland"
    organiser.save()
    # 22:00 in Stockholm is 10:00 (or 11:00) the next morning in Auckland.
    their_day = local_at(22).astimezone(AUCKLAND).date()
    starts_at = datetime.datetime.combine(their_day, datetime.time(9), tzinfo=AUCKLAND)
    return make_sitting(world, starts_at=starts_at)


def at_their(sitting, hour: int, minute: int = 0) -> datetime.datetime:
    day = sitting.starts_at.astimezone(AUCKLAND).date()
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=AUCKLAND)


def test_the_test_is_released_inside_the_schools_own_opening_hours(auckland_sitting):
    # 09:30 in Auckland is the evening before in Stockholm, outside 08:00-17:00 there
    assert release_allowed(sitting=auckland_sitting, now=at_their(auckland_sitting, 9, 30))


def test_release_before_the_school_opens_is_refused(auckland_sitting):
    # 04:00 in Auckland is 16:00 the day before in Stockholm: the sitting's date there, in hours
    assert not release_allowed(sitting=auckland_sitting, now=at_their(auckland_sitting, 4))


def test_a_student_finds_the_sitting_of_the_schools_today(world, auckland_sitting):
    student = auckland_sitting.placements.first().person
    # 13:00 in Auckland is 01:00 in Stockholm: the next day there, the same day at the school
    afternoon = at_their(auckland_sitting, 13)
    assert todays_sitting(person=student, now=afternoon) == auckland_sitting
    assert todays_sitting(person=student, now=afternoon - datetime.timedelta(days=1)) is None
