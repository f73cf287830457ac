"""Readiness walks one sitting from red to green, and the pages show it."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from exams import readiness
from exams.day_passwords import day_password_for
from exams.services import (
    assignments_create,
    checklist_acknowledge,
    sitting_add_proctor,
    sitting_add_students,
    sitting_create,
)
from schools.roles import Role
from tests.exams.helpers import at, room, subtest_in_window
from tests.factories import SubtestFactory

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() + datetime.timedelta(days=3)


def states(sitting) -> dict[str, str]:
    return {c.key: c.state for c in readiness.sitting_readiness(sitting).checks}


def test_a_sitting_goes_from_red_to_green(world):
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    subtest = subtest_in_window()
    organiser = world.unit.organiser
    organiser.first_transfer_at = timezone.now() - datetime.timedelta(days=10)
    organiser.last_transfer_at = timezone.now() - datetime.timedelta(days=1)
    organiser.save()
    assignments_create(
        actor=admin, school_unit=world.unit, subtest=subtest, persons=world.students_a
    )
    sitting = sitting_create(
        actor=admin,
        school_unit=world.unit,
        subtest=subtest,
        room=room(world),
        starts_at=at(DAY, 9),
        proctors=[world.staff[Role.PROCTOR].person],
        students=world.students_a[:2],
    ).sitting
    first = readiness.sitting_readiness(sitting)
    assert first.state == "red"
    assert states(sitting) == {
        "transfer": "red",  # first transfer only 10 days ago
        "placement": "red",  # one assigned student not placed
        "proctor": "green",
        "backup_proctor": "amber",
        "adjustments": "amber",
        "day_password": "amber",
        "technical_checklist": "red",
    }
    assert all(c.fix_url for c in first.checks if c.state != "green")

    # the organiser's data arrived in time; a late update is flagged amber
    organiser.first_transfer_at = timezone.now() - datetime.timedelta(days=45)
    organiser.save()
    assert states(sitting)["transfer"] == "amber"
    organiser.last_transfer_at = timezone.now() - datetime.timedelta(days=20)
    organiser.save()
    assert states(sitting)["transfer"] == "green"

    sitting_add_students(actor=admin, sitting=sitting, persons=world.students_a[2:])
    sitting_add_proctor(
        actor=admin, sitting=sitting, person=world.staff[Role.TEACHER].person, is_backup=True
    )
    checklist_acknowledge(
        actor=admin, school_unit=world.unit, sitting=sitting, key="adjustments_reviewed"
    )
    day_password_for(school_unit=world.unit, date=DAY)
    assert readiness.sitting_readiness(sitting).state == "red"  # technical checklist left
    checklist_acknowledge(
        actor=admin, school_unit=world.unit, sitting=sitting, key="technical_checklist"
    )

    final = readiness.sitting_readiness(sitting)
    assert final.state == "green"
    assert {c.state for c in final.checks} == {"green"}


def test_an_off_platform_subtest_needs_someone_to_enter_results(world):
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    oral = SubtestFactory(test=subtest_in_window().test, on_platform=False)
    sitting = sitting_create(
        actor=admin,
        school_unit=world.unit,
        subtest=oral,
        room=room(world),
        starts_at=at(DAY, 10),
        proctors=[world.staff[Role.PROCTOR].person],
    ).sitting
    checks = states(sitting)
    assert checks["result_entry"] == "green"  # the world has assessors
    assert "day_password" not in checks


def test_readiness_page_and_print_page_show_the_checks(client, world):
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    subtest = subtest_in_window()
    sitting_create(
        actor=admin,
        school_unit=world.unit,
        subtest=subtest,
        room=room(world),
        starts_at=at(DAY, 9),
        proctors=[world.staff[Role.PROCTOR].person],
    )
    client.force_login(admin)
    page = client.get(reverse("exams-readiness", args=[world.unit.public_id]))
    assert page.status_code == 200
    assert "Technical checklist acknowledged" in page.content.decode()
    printable = client.get(reverse("exams-readiness-print", args=[world.unit.public_id]))
    assert "@media print" in printable.content.decode()
    dashboard = client.get(reverse("unit-dashboard", args=[world.unit.public_id]))
    assert "readiness-panel" in dashboard.content.decode()


def test_acknowledging_from_the_page_turns_the_check_green(client, world):
    admin = world.staff[Role.HEAD_TEACHER]
    sitting = sitting_create(
        actor=admin,
        school_unit=world.unit,
        subtest=subtest_in_window(),
        room=room(world),
        starts_at=at(DAY, 9),
        proctors=[world.staff[Role.PROCTOR].person],
    ).sitting
    client.force_login(admin)
    response = client.post(
        reverse("exams-readiness", args=[world.unit.public_id]),
        {"sitting": str(sitting.public_id), "key": "technical_checklist"},
    )
    assert response.status_code == 302
    assert states(sitting)["technical_checklist"] == "green"


def test_readiness_is_not_shown_to_a_teacher(client, world):
    client.force_login(world.staff[Role.TEACHER])
    assert client.get(reverse("exams-readiness", args=[world.unit.public_id])).status_code == 404
    dashboard = client.get(reverse("unit-dashboard", args=[world.unit.public_id]))
    assert "readiness-panel" not in dashboard.content.decode()
