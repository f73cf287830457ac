"""Sittings: time rules, proctors, placement, postponing, catch-up and paper replacement."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from exams.models import PaperReplacement, Sitting, SittingProctor, SittingStatus
from exams.preparation.assignments import assignments_create
from exams.preparation.common import ExamRefused
from exams.preparation.decisions import adjustments_lock
from exams.preparation.sittings import (
    paper_replacement_record,
    sitting_add_proctor,
    sitting_add_students,
    sitting_create,
    sitting_postpone,
    sitting_remove_proctor,
)
from provplattform.models import AuditEvent
from schools.models import RoleAssignment
from schools.roles import Role
from schools.services import role_assign
from tests.exams.helpers import at, room, subtest_in_window
from tests.factories import PersonFactory, UserFactory, staff_member

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + datetime.timedelta(days=1)


def admin(world):
    return world.staff[Role.TEST_ADMINISTRATOR]


def prepared(world, **subtest_kwargs):
    subtest = subtest_in_window(**subtest_kwargs)
    assignments_create(
        actor=admin(world), school_unit=world.unit, subtest=subtest, persons=world.students_a
    )
    return subtest


def create(world, subtest, *, starts_at=None, proctors=None, **kwargs):
    return sitting_create(
        actor=admin(world),
        school_unit=world.unit,
        subtest=subtest,
        room=kwargs.pop("room", None) or room(world),
        starts_at=starts_at or at(TOMORROW, 9),
        proctors=proctors if proctors is not None else [world.staff[Role.PROCTOR].person],
        **kwargs,
    )


def test_sitting_outside_opening_hours_is_refused(world):
    subtest = prepared(world)  # 08:00–17:00, 45 minutes
    with pytest.raises(ExamRefused, match="08:00 or later and end by 17:00"):
        create(world, subtest, starts_at=at(TOMORROW, 7, 30))
    with pytest.raises(ExamRefused, match="end by 17:00"):
        create(world, subtest, starts_at=at(TOMORROW, 16, 30))  # would end 17:15
    assert not Sitting.objects.exists()


def test_sitting_ending_exactly_at_closing_is_accepted(world):
    subtest = prepared(world)
    result = create(world, subtest, starts_at=at(TOMORROW, 16, 15))
    assert result.sitting.starts_at == at(TOMORROW, 16, 15)


def test_sitting_outside_the_test_window_is_refused(world):
    subtest = prepared(world, length=3)
    with pytest.raises(ExamRefused, match="inside the test window"):
        create(world, subtest, starts_at=at(TOMORROW + datetime.timedelta(days=10), 9))


def test_proctor_without_the_role_is_refused(world):
    subtest = prepared(world)
    other = world.staff[Role.OTHER_STAFF].person
    with pytest.raises(ExamRefused, match="does not hold the proctor role"):
        create(world, subtest, proctors=[other])
    assessor = world.staff[Role.ASSESSOR].person
    with pytest.raises(ExamRefused, match="does not hold the proctor role"):
        create(world, subtest, proctors=[assessor])
    assert not Sitting.objects.exists()


def test_person_the_organiser_did_not_transfer_cannot_proctor(world):
    subtest = prepared(world)
    # a substitute with a login but no duty at the unit
    substitute = PersonFactory(organiser=world.unit.organiser)
    UserFactory(person=substitute)
    with pytest.raises(ExamRefused, match="was not transferred"):
        create(world, subtest, proctors=[substitute])
    # a teacher who held the role but whom the organiser has since removed
    leaver = staff_member(world.unit, duty_role="Lärare")
    role_assign(actor=None, person=leaver.person, school_unit=world.unit, role=Role.TEACHER)
    leaver.person.duties.all().delete()
    assert RoleAssignment.objects.filter(person=leaver.person).exists()
    with pytest.raises(ExamRefused, match="was not transferred"):
        create(world, subtest, proctors=[leaver.person])


def test_a_teacher_qualifies_as_proctor_and_backups_are_recorded(world):
    subtest = prepared(world)
    result = create(
        world,
        subtest,
        proctors=[world.staff[Role.TEACHER].person],
        backup_proctors=[world.staff[Role.PROCTOR].person],
    )
    rows = dict(
        SittingProctor.objects.filter(sitting=result.sitting).values_list("person_id", "is_backup")
    )
    assert rows == {
        world.staff[Role.TEACHER].person.pk: False,
        world.staff[Role.PROCTOR].person.pk: True,
    }


def test_a_sitting_needs_a_proctor_and_keeps_one(world):
    subtest = prepared(world)
    with pytest.raises(ExamRefused, match="at least one proctor"):
        create(world, subtest, proctors=[])
    sitting = create(world, subtest).sitting
    with pytest.raises(ExamRefused, match="at least one proctor"):
        sitting_remove_proctor(
            actor=admin(world), sitting=sitting, person=world.staff[Role.PROCTOR].person
        )


def test_only_assigned_students_are_placed_and_the_summary_says_why(world):
    subtest = prepared(world)
    result = create(world, subtest, students=[*world.students_a, world.students_b[0]])
    assert len(result.students.changed) == 3
    assert result.students.refused == [
        {
            "person": str(world.students_b[0].public_id),
            "name": world.students_b[0].full_name,
            "reason": "Not assigned this subtest.",
        }
    ]
    second = create(world, subtest, starts_at=at(TOMORROW, 13)).sitting
    summary = sitting_add_students(actor=admin(world), sitting=second, persons=world.students_a)
    assert {r["reason"] for r in summary.refused} == {
        "Already placed in another sitting of this subtest."
    }


def _end(sitting) -> None:
    """The proctor ends the sitting; students who never started count as absent."""
    Sitting.objects.filter(pk=sitting.pk).update(
        status=SittingStatus.ENDED, ended_at=timezone.now()
    )


def test_catch_up_sitting_takes_students_who_were_absent_but_not_those_who_started(world):
    # given a sitting that has ended: the first student sat it, the second was absent
    subtest = prepared(world)
    first = create(world, subtest, students=world.students_a).sitting
    sat, absent, _ = world.students_a
    adjustments_lock(person=sat, subtest=subtest)
    _end(first)

    # when both are put in a catch-up sitting
    catch_up = create(
        world,
        subtest,
        starts_at=at(TOMORROW + datetime.timedelta(days=2), 10),
        is_catch_up=True,
        students=[sat, absent],
    )

    # then only the absent student is placed, and the refusal says why
    assert [c["person"] for c in catch_up.students.changed] == [str(absent.public_id)]
    assert catch_up.students.refused == [
        {
            "person": str(sat.public_id),
            "name": sat.full_name,
            "reason": "Has already started this subtest.",
        }
    ]
    assert catch_up.sitting.is_catch_up


def test_after_a_sitting_ends_its_students_cannot_be_placed_in_a_new_regular_sitting(world):
    subtest = prepared(world)
    first = create(world, subtest, students=world.students_a).sitting
    sat, absent, _ = world.students_a
    adjustments_lock(person=sat, subtest=subtest)
    _end(first)

    second = create(
        world, subtest, starts_at=at(TOMORROW + datetime.timedelta(days=2), 10), students=[]
    ).sitting
    summary = sitting_add_students(actor=admin(world), sitting=second, persons=[sat, absent])

    assert summary.changed == []
    assert [r["reason"] for r in summary.refused] == [
        "Has already started this subtest.",
        "Absent from an earlier sitting: place the student in a catch-up sitting.",
    ]
    assert not second.placements.exists()


def test_a_student_in_a_scheduled_sitting_is_not_placed_in_a_catch_up_as_well(world):
    subtest = prepared(world)
    create(world, subtest, students=world.students_a[:1])
    catch_up = create(
        world,
        subtest,
        starts_at=at(TOMORROW + datetime.timedelta(days=2), 10),
        is_catch_up=True,
        students=world.students_a[:1],
    )
    assert catch_up.students.changed == []
    assert catch_up.students.refused[0]["reason"] == (
        "Already placed in another sitting of this subtest."
    )


def test_a_student_who_did_the_paper_replacement_is_not_placed_again(world):
    subtest = prepared(world)
    pupil = world.students_a[0]
    paper_replacement_record(
        actor=admin(world), school_unit=world.unit, subtest=subtest, person=pupil
    )
    result = create(world, subtest, is_catch_up=True, students=[pupil])
    assert result.students.refused[0]["reason"] == "Did this subtest as a paper replacement test."


def test_postponing_carries_students_and_proctors_and_is_audited(world):
    subtest = prepared(world)
    sitting = create(
        world,
        subtest,
        students=world.students_a,
        backup_proctors=[world.staff[Role.TEACHER].person],
    ).sitting
    head = world.staff[Role.HEAD_TEACHER]
    with pytest.raises(ExamRefused, match="reason"):
        sitting_postpone(actor=head, sitting=sitting, starts_at=at(TOMORROW, 13), reason="")
    new = sitting_postpone(
        actor=head,
        sitting=sitting,
        starts_at=at(TOMORROW + datetime.timedelta(days=1), 10),
        reason="Nätverket nere",
    )
    sitting.refresh_from_db()
    assert sitting.status == SittingStatus.POSTPONED
    assert sitting.postponed_to == new
    assert set(new.placements.values_list("person_id", flat=True)) == {
        p.pk for p in world.students_a
    }
    assert new.proctorships.count() == 2
    event = AuditEvent.objects.get(action="sitting.postpone")
    assert event.reason == "Nätverket nere" and event.actor == head


def test_postponing_outside_opening_hours_is_refused(world):
    sitting = create(world, prepared(world)).sitting
    with pytest.raises(ExamRefused):
        sitting_postpone(
            actor=admin(world), sitting=sitting, starts_at=at(TOMORROW, 18), reason="Avbrott"
        )


def test_teacher_may_not_postpone(world):
    sitting = create(world, prepared(world)).sitting
    with pytest.raises(ExamRefused):
        sitting_postpone(
            actor=world.staff[Role.TEACHER],
            sitting=sitting,
            starts_at=at(TOMORROW, 13),
            reason="x",
        )


def test_paper_replacement_is_recorded_for_assigned_students_only(world):
    subtest = prepared(world)
    paper_replacement_record(
        actor=world.staff[Role.HEAD_TEACHER],
        school_unit=world.unit,
        subtest=subtest,
        person=world.students_a[0],
        note="Strömavbrott",
    )
    assert PaperReplacement.objects.filter(person=world.students_a[0]).exists()
    with pytest.raises(ExamRefused, match="Not assigned"):
        paper_replacement_record(
            actor=admin(world),
            school_unit=world.unit,
            subtest=subtest,
            person=world.students_b[0],
        )
    assert AuditEvent.objects.filter(action="paper_replacement.record").count() == 1


def test_room_of_another_unit_is_refused(world):
    from tests.factories import RoomFactory

    foreign = RoomFactory(school_unit=world.sibling_unit)
    with pytest.raises(ExamRefused):
        create(world, prepared(world), room=foreign)


def test_adding_a_proctor_checks_the_role(world):
    sitting = create(world, prepared(world)).sitting
    with pytest.raises(ExamRefused, match="proctor role"):
        sitting_add_proctor(
            actor=admin(world), sitting=sitting, person=world.staff[Role.ASSESSMENT_LEAD].person
        )
    sitting_add_proctor(
        actor=admin(world),
        sitting=sitting,
        person=world.staff[Role.TEACHER].person,
        is_backup=True,
    )
    assert AuditEvent.objects.filter(action="sitting.proctor_add").count() == 2
