"""A student who moves to another school unit takes the assignment along, unless started."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from exams.models import Assignment
from exams.preparation.assignments import assignments_create, assignments_sync_mandatory
from exams.preparation.decisions import adjustments_lock
from exams.preparation.sittings import sitting_create
from provplattform.models import AuditEvent
from schools.models import Enrolment
from schools.roles import Role
from tests.exams.helpers import at, room, subtest_in_window
from tests.factories import EnrolmentFactory, RoomFactory

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() + datetime.timedelta(days=2)


def move(person, *, frm, to, keep_old: bool = False) -> None:
    if not keep_old:
        Enrolment.objects.filter(person=person, school_unit=frm).delete()
    EnrolmentFactory(person=person, school_unit=to, school_year=9)


def unit_of(person, subtest):
    return Assignment.objects.get(person=person, subtest=subtest).school_unit


def test_the_automatic_assignment_follows_a_student_who_moved_and_the_new_unit_can_place_them(
    world,
):
    # given a student assigned and placed at the first unit
    subtest = subtest_in_window()
    assignments_sync_mandatory(school_unit=world.unit)
    pupil = world.students_a[0]
    old_sitting = sitting_create(
        actor=world.staff[Role.TEST_ADMINISTRATOR],
        school_unit=world.unit,
        subtest=subtest,
        room=room(world),
        starts_at=at(DAY, 9),
        proctors=[world.staff[Role.PROCTOR].person],
        students=[pupil],
    ).sitting

    # when the organiser's transfer moves the student to the sibling unit
    move(pupil, frm=world.unit, to=world.sibling_unit)
    assignments_sync_mandatory(school_unit=world.sibling_unit)

    # then the assignment is at the new unit, the old sitting lost the student, all audited
    assert unit_of(pupil, subtest) == world.sibling_unit
    assert not old_sitting.placements.filter(person=pupil).exists()
    moves = AuditEvent.objects.filter(action="assignment.move")
    assert {m.scope for m in moves} == {world.unit.public_id, world.sibling_unit.public_id}
    head = world.sibling_head
    placed = sitting_create(
        actor=head,
        school_unit=world.sibling_unit,
        subtest=subtest,
        room=RoomFactory(school_unit=world.sibling_unit, name="Aula"),
        starts_at=at(DAY, 10),
        proctors=[head.person],
        students=[pupil],
    ).students
    assert len(placed.changed) == 1 and placed.refused == []


def test_a_student_who_started_at_the_old_unit_stays_there(world):
    subtest = subtest_in_window()
    assignments_sync_mandatory(school_unit=world.unit)
    pupil = world.students_a[1]
    adjustments_lock(person=pupil, subtest=subtest)
    move(pupil, frm=world.unit, to=world.sibling_unit)

    assignments_sync_mandatory(school_unit=world.sibling_unit)
    summary = assignments_create(
        actor=world.sibling_head, school_unit=world.sibling_unit, subtest=subtest, persons=[pupil]
    )

    assert unit_of(pupil, subtest) == world.unit
    assert summary.refused[0]["reason"] == (
        "Has already started this subtest at another school unit."
    )


def test_an_assignment_at_the_new_unit_moves_it_but_not_while_still_enrolled_at_the_old(world):
    subtest = subtest_in_window()
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    assignments_create(
        actor=admin, school_unit=world.unit, subtest=subtest, persons=world.students_b[:2]
    )
    moved, dual = world.students_b[:2]
    move(moved, frm=world.unit, to=world.sibling_unit)
    move(dual, frm=world.unit, to=world.sibling_unit, keep_old=True)

    summary = assignments_create(
        actor=world.sibling_head,
        school_unit=world.sibling_unit,
        subtest=subtest,
        persons=[moved, dual],
    )

    assert [c["action"] for c in summary.changed] == ["moved"]
    assert unit_of(moved, subtest) == world.sibling_unit
    assert summary.refused[0]["reason"] == (
        "Assigned at another school unit where the student is still enrolled."
    )
    assert unit_of(dual, subtest) == world.unit
