"""Readiness a school can act on: students who sat the subtest are not "not placed", the transfer
check follows the settings, the technical checklist is the routine's items, each ticked by a named
person, and the demo is green where nothing is wrong."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from exams import readiness
from exams.models import Sitting, SittingStatus
from exams.preparation.assignments import assignments_create
from exams.preparation.common import ExamRefused
from exams.preparation.decisions import adjustments_lock
from exams.preparation.rules import TECHNICAL_ITEMS, TECHNICAL_KEYS
from exams.preparation.sittings import checklist_acknowledge, sitting_create
from schools.roles import Role
from tests.exams.helpers import transferred
from tests.exams.test_readiness import _sitting

pytestmark = pytest.mark.django_db


def check_of(sitting, key):
    return next(c for c in readiness.sitting_readiness(sitting).checks if c.key == key)


def test_a_student_who_sat_the_subtest_in_an_ended_sitting_is_not_unplaced(world):
    # given a first sitting where one student sat the subtest, and another that has ended since
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    sat, *others = world.students_a
    first = _sitting(world, students=[sat])
    adjustments_lock(person=sat, subtest=first.subtest)  # started on the platform
    Sitting.objects.filter(pk=first.pk).update(status=SittingStatus.ENDED)
    assignments_create(actor=admin, school_unit=world.unit, subtest=first.subtest, persons=others)
    second = sitting_create(
        actor=admin,
        school_unit=world.unit,
        subtest=first.subtest,
        room=first.room,
        starts_at=first.starts_at + datetime.timedelta(days=1),
        proctors=[world.staff[Role.PROCTOR].person],
        students=others,
    ).sitting

    # then the second sitting's placement check is green: the student is done, not unplaced
    assert check_of(second, "placement").state == "green"


def test_the_transfer_check_uses_the_transfer_settings(world, settings):
    sitting = _sitting(world, students=world.students_a)
    transferred(created_days_ago=20, modified_days_ago=10)
    check = check_of(sitting, "transfer")
    assert check.state == "red" and "30 days" in check.detail

    settings.TRANSFER_FIRST_MIN_DAYS = 14
    assert check_of(sitting, "transfer").state == "green"

    settings.TRANSFER_UPDATE_MIN_DAYS = 14
    check = check_of(sitting, "transfer")
    assert check.state == "amber" and "14 days" in check.detail


def test_the_technical_checklist_has_the_routines_items_each_ticked_by_a_named_person(world):
    sitting = _sitting(world, students=world.students_a)
    head, it_person = world.staff[Role.HEAD_TEACHER], world.staff[Role.SCHOOL_ADMINISTRATOR]
    check = check_of(sitting, "technical_checklist")
    assert check.state == "red"
    assert [i["item"] for i in check.items] == [
        "devices",
        "keyboards_headphones",
        "charged",
        "updates_paused",
        "spare_devices",
        "screens",
        "network",
        "support",
    ]
    assert len(TECHNICAL_ITEMS) == 8

    for n, key in enumerate(TECHNICAL_KEYS):
        actor = head if n % 2 else it_person
        checklist_acknowledge(actor=actor, school_unit=world.unit, sitting=sitting, key=key)
        if n < len(TECHNICAL_KEYS) - 1:
            assert check_of(sitting, "technical_checklist").state == "red"

    check = check_of(sitting, "technical_checklist")
    assert check.state == "green"
    assert {i["ticked_by"] for i in check.items} == {
        head.person.full_name,
        it_person.person.full_name,
    }


def test_the_whole_checklist_cannot_be_ticked_at_once_or_by_nobody(world):
    sitting = _sitting(world, students=world.students_a)
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    with pytest.raises(ExamRefused, match="Unknown checklist item"):
        checklist_acknowledge(
            actor=admin, school_unit=world.unit, sitting=sitting, key="technical_checklist"
        )
    with pytest.raises(ExamRefused, match="named person"):
        checklist_acknowledge(
            actor=None, school_unit=world.unit, sitting=sitting, key=TECHNICAL_KEYS[0]
        )


def test_the_readiness_page_shows_who_ticked_each_item(client, world):
    sitting = _sitting(world, students=world.students_a)
    head = world.staff[Role.HEAD_TEACHER]
    checklist_acknowledge(
        actor=head, school_unit=world.unit, sitting=sitting, key="technical:network"
    )
    client.force_login(head)
    html = client.get(reverse("exams-readiness", args=[world.unit.public_id])).content.decode()
    assert f"ticked by {head.person.full_name}" in html
    assert html.count("Tick as done") == 7
    api = client.get(f"/api/v1/units/{world.unit.public_id}/readiness/").json()
    items = next(c for c in api[0]["checks"] if c["key"] == "technical_checklist")["items"]
    assert [i["ticked_by"] for i in items if i["key"] == "technical:network"] == [
        head.person.full_name
    ]


MORNING = datetime.datetime(2027, 3, 16, 10, 7, tzinfo=zoneinfo.ZoneInfo("Europe/Stockholm"))


@time_machine.travel(MORNING, tick=False)
def test_the_demos_readiness_is_green():
    from exams.demo import seed_exams
    from schools.demo import seed_schools

    ctx = seed_schools({})
    seed_exams(ctx)
    for unit in ctx["units"].values():
        for item in readiness.unit_readiness(school_unit=unit):
            assert {c.key: c.state for c in item.checks if c.state != "green"} == {}, unit.name
