"""Readiness walks one sitting from red to green, and the pages show it."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from exams import readiness
from exams.day_passwords import day_password_for
from exams.models import ChecklistAcknowledgement
from exams.preparation.assignments import assignments_create
from exams.preparation.common import ExamRefused
from exams.preparation.rules import TECHNICAL_KEYS
from exams.preparation.sittings import (
    checklist_acknowledge,
    sitting_add_proctor,
    sitting_add_students,
    sitting_create,
    sitting_set_result_enterer,
)
from schools.models import Enrolment, RoleAssignment
from schools.roles import Role
from tests.exams.helpers import at, room, subtest_in_window, transferred
from tests.factories import SubtestFactory

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() + datetime.timedelta(days=3)


def tick_technical(actor, sitting) -> None:
    for key in TECHNICAL_KEYS:
        checklist_acknowledge(
            actor=actor, school_unit=sitting.school_unit, sitting=sitting, key=key
        )


def states(sitting) -> dict[str, str]:
    return {c.key: c.state for c in readiness.sitting_readiness(sitting).checks}


def off_platform_sitting(world):
    """A sitting of an oral part, held off the platform, with its proctor."""
    oral = SubtestFactory(test=subtest_in_window().test, on_platform=False)
    return sitting_create(
        actor=world.staff[Role.TEST_ADMINISTRATOR],
        school_unit=world.unit,
        subtest=oral,
        room=room(world),
        starts_at=at(DAY, 10),
        proctors=[world.staff[Role.PROCTOR].person],
    ).sitting


def test_a_sitting_goes_from_red_to_green(world):
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    subtest = subtest_in_window()
    transferred(created_days_ago=10, modified_days_ago=1)
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
        "transfer": "red",  # students and proctor transferred only 10 days ago
        "placement": "red",  # one assigned student not placed
        "proctor": "green",
        "backup_proctor": "amber",
        "adjustments": "amber",
        "day_password": "amber",
        "technical_checklist": "red",
    }
    assert all(c.fix_url for c in first.checks if c.state != "green")

    # everyone arrived in time; a late change is flagged amber
    transferred(created_days_ago=45, modified_days_ago=1)
    assert states(sitting)["transfer"] == "amber"
    transferred(created_days_ago=45, modified_days_ago=20)
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
    tick_technical(admin, sitting)

    final = readiness.sitting_readiness(sitting)
    assert final.state == "green"
    assert {c.state for c in final.checks} == {"green"}


def test_an_off_platform_subtest_needs_a_named_person_to_enter_results(world):
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    sitting = off_platform_sitting(world)
    checks = states(sitting)
    assert checks["result_entry"] == "red"  # the unit has assessors, but nobody is named
    assert "day_password" not in checks

    for person, reason in (
        (world.staff[Role.PROCTOR].person, "may not enter results"),
        (world.students_a[0], "not transferred"),
        (world.sibling_head.person, "not transferred"),
    ):
        with pytest.raises(ExamRefused, match=reason):
            sitting_set_result_enterer(actor=admin, sitting=sitting, person=person)
    assert states(sitting)["result_entry"] == "red"

    assessor = world.staff[Role.ASSESSOR].person
    sitting_set_result_enterer(actor=admin, sitting=sitting, person=assessor)
    check = next(c for c in readiness.sitting_readiness(sitting).checks if c.key == "result_entry")
    assert (check.state, check.detail) == ("green", assessor.full_name)

    # the assessor loses the role: red again
    RoleAssignment.objects.filter(person=assessor).delete()
    assert states(sitting)["result_entry"] == "red"


def test_results_of_an_on_platform_subtest_need_nobody_named(world):
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    sitting = sitting_create(
        actor=admin,
        school_unit=world.unit,
        subtest=subtest_in_window(),
        room=room(world),
        starts_at=at(DAY, 10),
        proctors=[world.staff[Role.PROCTOR].person],
    ).sitting
    with pytest.raises(ExamRefused, match="scored on the platform"):
        sitting_set_result_enterer(
            actor=admin, sitting=sitting, person=world.staff[Role.ASSESSOR].person
        )
    assert "result_entry" not in states(sitting)


def _sitting(world, *, students, hour=9, day=DAY):
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    subtest = subtest_in_window()
    assignments_create(actor=admin, school_unit=world.unit, subtest=subtest, persons=students)
    return sitting_create(
        actor=admin,
        school_unit=world.unit,
        subtest=subtest,
        room=room(world),
        starts_at=at(day, hour),
        proctors=[world.staff[Role.PROCTOR].person],
        students=students,
    ).sitting


def test_the_transfer_check_names_each_person_transferred_or_changed_too_late(world):
    transferred(created_days_ago=60, modified_days_ago=40)
    late, changed, fine = world.students_a
    sitting = _sitting(world, students=world.students_a)
    transferred(created_days_ago=5, modified_days_ago=5, persons=[late])
    transferred(created_days_ago=60, modified_days_ago=2, persons=[changed])

    check = next(c for c in readiness.sitting_readiness(sitting).checks if c.key == "transfer")
    assert check.state == "red"
    assert late.full_name in check.detail
    assert changed.full_name not in check.detail and fine.full_name not in check.detail

    transferred(created_days_ago=60, modified_days_ago=40, persons=[late])
    check = next(c for c in readiness.sitting_readiness(sitting).checks if c.key == "transfer")
    assert check.state == "amber"
    assert changed.full_name in check.detail and fine.full_name not in check.detail


def test_a_proctor_transferred_too_late_makes_the_transfer_check_red(world):
    transferred(created_days_ago=60, modified_days_ago=40)
    sitting = _sitting(world, students=world.students_a)
    proctor = world.staff[Role.PROCTOR].person
    transferred(created_days_ago=3, modified_days_ago=3, persons=[proctor])
    check = next(c for c in readiness.sitting_readiness(sitting).checks if c.key == "transfer")
    assert (check.state, proctor.full_name in check.detail) == ("red", True)


def test_an_acknowledgement_counts_only_for_its_own_sitting(world):
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    first = _sitting(world, students=world.students_a)
    later = _sitting(world, students=world.students_b, day=DAY + datetime.timedelta(days=7))
    tick_technical(admin, first)
    # a confirmation stored without a sitting (as older versions allowed) covers nothing
    ChecklistAcknowledgement.objects.create(
        school_unit=world.unit, key="adjustments_reviewed", acknowledged_by=admin
    )

    assert states(first)["technical_checklist"] == "green"
    assert states(later)["technical_checklist"] == "red"
    assert states(later)["adjustments"] == "amber"
    with pytest.raises(ExamRefused, match="Choose the sitting"):
        checklist_acknowledge(actor=admin, school_unit=world.unit, key=TECHNICAL_KEYS[0])


def test_placement_ignores_students_who_have_left_the_unit(world):
    placed, gone = world.students_a[:2]
    sitting = _sitting(world, students=[placed])
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    assignments_create(actor=admin, school_unit=world.unit, subtest=sitting.subtest, persons=[gone])
    assert states(sitting)["placement"] == "red"

    Enrolment.objects.filter(person=gone).update(
        end_date=timezone.localdate() - datetime.timedelta(days=1)
    )

    assert states(sitting)["placement"] == "green"


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
    assert "Technical checklist" in page.content.decode()
    assert "Tick as done" in page.content.decode()
    printable = client.get(reverse("exams-readiness-print", args=[world.unit.public_id]))
    assert "css/readiness-print.css" in printable.content.decode()  # print styles, as a file
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
    for key in TECHNICAL_KEYS:
        assert states(sitting)["technical_checklist"] == "red"
        response = client.post(
            reverse("exams-readiness", args=[world.unit.public_id]),
            {"sitting": str(sitting.public_id), "key": key},
        )
        assert response.status_code == 302
    assert states(sitting)["technical_checklist"] == "green"


def test_readiness_is_not_shown_to_a_teacher(client, world):
    client.force_login(world.staff[Role.TEACHER])
    assert client.get(reverse("exams-readiness", args=[world.unit.public_id])).status_code == 404
    dashboard = client.get(reverse("unit-dashboard", args=[world.unit.public_id]))
    assert "readiness-panel" not in dashboard.content.decode()


def test_the_sitting_page_names_who_enters_the_results_of_an_off_platform_part(client, world):
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    sitting = off_platform_sitting(world)
    url = reverse("exams-sitting", args=[world.unit.public_id, sitting.public_id])
    client.force_login(admin)
    assessor = world.staff[Role.ASSESSOR].person
    page = client.get(url).content.decode()
    assert "Results entered by" in page and str(assessor.public_id) in page

    refused = client.post(
        url, {"action": "result_enterer", "person": str(world.staff[Role.PROCTOR].person.public_id)}
    )
    assert refused.status_code == 400
    assert "may not enter results" in refused.content.decode()

    saved = client.post(url, {"action": "result_enterer", "person": str(assessor.public_id)})
    assert saved.status_code == 302
    sitting.refresh_from_db()
    assert sitting.results_entered_by == assessor
    assert states(sitting)["result_entry"] == "green"
