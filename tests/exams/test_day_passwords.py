"""Day passwords: entropy, readability, validity on one day in the unit's time zone, visibility."""

from __future__ import annotations

import datetime
import math
import zoneinfo

import pytest
from django.urls import reverse

from exams import day_passwords
from exams.day_passwords import day_password_check, day_password_for
from exams.models import DayPassword
from schools.roles import Role

pytestmark = pytest.mark.django_db

OSLO = zoneinfo.ZoneInfo("Europe/Oslo")


def test_entropy_is_at_least_30_bits():
    # 31 symbols, 8 characters: log2(31 ** 8) ≈ 39.6
    assert len(day_passwords.ALPHABET) == 31
    assert pytest.approx(8 * math.log2(31)) == day_passwords.ENTROPY_BITS
    assert day_passwords.ENTROPY_BITS >= 30
    assert len(set(day_passwords.ALPHABET)) == len(day_passwords.ALPHABET)


def test_alphabet_has_no_look_alikes():
    for ambiguous in "0Oo1lLiI":
        assert ambiguous not in day_passwords.ALPHABET


def test_generated_passwords_use_only_the_alphabet_and_differ():
    seen = {day_passwords.generate() for _ in range(200)}
    assert len(seen) == 200
    assert all(len(p) == 8 and set(p) <= set(day_passwords.ALPHABET) for p in seen)


def test_one_password_per_unit_and_day(world):
    day = datetime.date(2027, 3, 15)
    first = day_password_for(school_unit=world.unit, date=day)
    assert day_password_for(school_unit=world.unit, date=day) == first
    other = day_password_for(school_unit=world.sibling_unit, date=day)
    assert other.pk != first.pk
    assert DayPassword.objects.count() == 2


def test_check_ignores_case_and_spaces_and_is_valid_only_that_day(world):
    unit = world.other_org_unit
    unit.organiser.time_zone = "Europe/Oslo"
    unit.organiser.save()
    day = datetime.date(2027, 3, 15)
    record = day_password_for(school_unit=unit, date=day)
    typed = f" {record.password[:4].lower()}  {record.password[4:]} "
    morning = datetime.datetime(2027, 3, 15, 8, 0, tzinfo=OSLO)
    assert day_password_check(school_unit=unit, value=typed, now=morning)
    # 23:30 on the 14th in Oslo is still the 14th locally
    assert not day_password_check(
        school_unit=unit,
        value=record.password,
        now=datetime.datetime(2027, 3, 14, 23, 30, tzinfo=OSLO),
    )
    assert not day_password_check(
        school_unit=unit,
        value=record.password,
        now=datetime.datetime(2027, 3, 16, 0, 5, tzinfo=OSLO),
    )
    # 23:30 UTC on the 14th is 00:30 on the 15th in Oslo
    assert day_password_check(
        school_unit=unit,
        value=record.password,
        now=datetime.datetime(2027, 3, 14, 23, 30, tzinfo=datetime.UTC),
    )


def test_another_units_password_does_not_open_this_unit(world):
    day = datetime.date(2027, 3, 15)
    now = datetime.datetime(2027, 3, 15, 9, 0, tzinfo=OSLO)
    day_password_for(school_unit=world.unit, date=day)
    foreign = day_password_for(school_unit=world.sibling_unit, date=day)
    assert not day_password_check(school_unit=world.unit, value=foreign.password, now=now)
    assert not day_password_check(school_unit=world.unit, value="", now=now)


@pytest.mark.parametrize(
    "role", [Role.PROCTOR, Role.TEACHER, Role.HEAD_TEACHER, Role.TEST_ADMINISTRATOR]
)
def test_proctors_and_administrators_see_the_day_password(client, world, role):
    client.force_login(world.staff[role])
    response = client.get(reverse("exams-day-password", args=[world.unit.public_id]))
    assert response.status_code == 200
    record = DayPassword.objects.get(school_unit=world.unit)
    assert day_passwords.display(record.password) in response.content.decode()


@pytest.mark.parametrize("role", [Role.ASSESSOR, Role.OTHER_STAFF, Role.ASSESSMENT_LEAD])
def test_assessors_and_other_staff_do_not_see_the_day_password(client, world, role):
    client.force_login(world.staff[role])
    response = client.get(reverse("exams-day-password", args=[world.unit.public_id]))
    assert response.status_code == 404
    assert not DayPassword.objects.exists()


def test_head_teacher_of_another_unit_does_not_see_it(client, world):
    client.force_login(world.sibling_head)
    response = client.get(reverse("exams-day-password", args=[world.unit.public_id]))
    assert response.status_code == 404
    api = client.get(f"/api/v1/units/{world.unit.public_id}/day-password/")
    assert api.status_code == 404
