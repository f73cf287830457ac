"""Adjustments (decided by the head teacher, permitted by the subtest, locked at start) and
exemptions (Norwegian programme, two grounds, attestation, never automatic)."""

from __future__ import annotations

import datetime

import pytest

from exams.day_passwords import unit_today
from exams.models import Adjustment, Assignment, Exemption
from exams.preparation.assignments import assignments_create, assignments_sync_mandatory
from exams.preparation.common import ExamRefused
from exams.preparation.decisions import (
    adjustment_remove,
    adjustment_set,
    adjustments_lock,
    exemption_create,
    exemption_remove,
)
from exams.preparation.rules import extra_seconds_for, tools_for
from exams.selectors import exempt_person_ids
from provplattform.models import AuditEvent
from schools.roles import Role
from schools.services import role_assign
from tests.exams.helpers import norwegian_subtest, subtest_in_window
from tests.factories import SubtestFactory, staff_member, student

pytestmark = pytest.mark.django_db


def head(world):
    return world.staff[Role.HEAD_TEACHER].person


def enter(world, subtest, *, actor=None, person=None, whole_test=False, **kwargs):
    kwargs.setdefault("decided_by", head(world))
    return adjustment_set(
        actor=actor or world.staff[Role.TEST_ADMINISTRATOR],
        school_unit=world.unit,
        person=person or world.students_a[0],
        test=subtest.test,
        subtest=None if whole_test else subtest,
        **kwargs,
    )


# --- adjustments --------------------------------------------------------------------------------


def test_extended_time_in_percent_reaches_the_deadline(world):
    subtest = subtest_in_window()  # 45 minutes
    enter(world, subtest, extended_percent=50)
    # 50 % of 45 min = 22.5, rounded up to 23 minutes
    assert extra_seconds_for(person=world.students_a[0], subtest=subtest) == 23 * 60
    assert extra_seconds_for(person=world.students_a[1], subtest=subtest) == 0


def test_subtest_adjustment_wins_over_the_whole_test(world):
    subtest = subtest_in_window()
    enter(world, subtest, whole_test=True, extended_minutes=30)
    enter(world, subtest, extended_minutes=10)
    assert extra_seconds_for(person=world.students_a[0], subtest=subtest) == 600


def test_adjustment_the_subtest_does_not_permit_is_refused_with_the_reason(world):
    subtest = SubtestFactory(
        test=subtest_in_window().test,
        title="Muntligt",
        permitted_adjustments=["tools"],
        permitted_tools=["spell_check"],
    )
    with pytest.raises(ExamRefused, match="Muntligt does not permit extended time"):
        enter(world, subtest, extended_minutes=15)
    with pytest.raises(ExamRefused, match="does not permit the tool Calculator"):
        enter(world, subtest, tools=["calculator"])
    with pytest.raises(ExamRefused, match="does not permit the adjustment Read aloud"):
        enter(world, subtest, other_kinds=["read_aloud"])
    assert not Adjustment.objects.exists()


def test_whole_test_adjustment_must_suit_every_on_platform_subtest(world):
    first = subtest_in_window()
    SubtestFactory(test=first.test, title="Del B", permitted_adjustments=[])
    with pytest.raises(ExamRefused, match="Del B does not permit extended time"):
        enter(world, first, whole_test=True, extended_minutes=10)


def test_adjustment_must_be_decided_by_the_head_teacher(world):
    subtest = subtest_in_window()
    with pytest.raises(ExamRefused, match="decided by the school unit's head teacher"):
        enter(
            world,
            subtest,
            extended_minutes=10,
            decided_by=world.staff[Role.TEST_ADMINISTRATOR].person,
        )
    with pytest.raises(ExamRefused, match="head teacher"):
        enter(world, subtest, extended_minutes=10, decided_by=world.sibling_head.person)


def test_who_decided_and_entered_is_recorded_and_audited(world):
    subtest = subtest_in_window()
    adjustment = enter(world, subtest, tools=["text_to_speech"])
    assert adjustment.decided_by == head(world)
    assert adjustment.entered_by == world.staff[Role.TEST_ADMINISTRATOR]
    assert adjustment.decided_on is not None
    assert tools_for(person=world.students_a[0], subtest=subtest) == ["text_to_speech"]
    event = AuditEvent.objects.get(action="adjustment.create")
    assert event.after["tools"] == ["text_to_speech"]


def test_teacher_cannot_enter_adjustments(world):
    with pytest.raises(ExamRefused):
        enter(world, subtest_in_window(), actor=world.staff[Role.TEACHER], extended_minutes=5)


def test_locked_adjustment_changes_only_by_an_administrator_with_a_reason(world):
    subtest = subtest_in_window()
    enter(world, subtest, extended_minutes=10)
    assert adjustments_lock(person=world.students_a[0], subtest=subtest) == 1
    with pytest.raises(ExamRefused, match="give a reason"):
        enter(world, subtest, extended_minutes=20)
    changed = enter(world, subtest, extended_minutes=20, reason="Beslut på provdagen")
    assert changed.extended_minutes == 20
    event = AuditEvent.objects.get(action="adjustment.change_on_day")
    assert event.reason == "Beslut på provdagen"
    assert event.before["extended_minutes"] == 10
    with pytest.raises(ExamRefused, match="administrator"):
        adjustment_remove(actor=world.staff[Role.TEST_ADMINISTRATOR], adjustment=changed)


# --- exemptions ---------------------------------------------------------------------------------


@pytest.fixture
def norway(world):
    unit = world.other_org_unit
    head_user = staff_member(unit, duty_role="Rektor")
    role_assign(actor=None, person=head_user.person, school_unit=unit, role=Role.HEAD_TEACHER)
    pupils = [student(unit, school_year=9) for _ in range(3)]
    return unit, head_user, pupils


def exempt(unit, head_user, person, subtest, **kwargs):
    values = {
        "ground": "special_education",
        "decision_reference": "2027/114",
        "attested_no_significance": True,
        "decided_by": head_user.person,
    } | kwargs
    return exemption_create(
        actor=head_user,
        school_unit=unit,
        person=person,
        test=subtest.test,
        subtest=None,
        **values,
    )


def test_exemption_on_another_ground_is_refused(norway):
    unit, head_user, pupils = norway
    subtest = norwegian_subtest()
    with pytest.raises(ExamRefused, match="individual decision"):
        exempt(unit, head_user, pupils[0], subtest, ground="illness")
    assert not Exemption.objects.exists()


def test_exemption_without_the_attestation_or_reference_is_refused(norway):
    unit, head_user, pupils = norway
    subtest = norwegian_subtest()
    with pytest.raises(ExamRefused, match="would not matter"):
        exempt(unit, head_user, pupils[0], subtest, attested_no_significance=False)
    with pytest.raises(ExamRefused, match="reference"):
        exempt(unit, head_user, pupils[0], subtest, decision_reference=" ")


def test_exemption_only_for_the_norwegian_programme(world, norway):
    unit, head_user, pupils = norway
    with pytest.raises(ExamRefused, match="Norwegian"):
        exempt(unit, head_user, pupils[0], subtest_in_window())


def test_exempt_student_is_not_auto_assigned_and_is_left_out_of_statistics(norway):
    unit, head_user, pupils = norway
    subtest = norwegian_subtest()
    assignments_sync_mandatory(school_unit=unit)
    assert Assignment.objects.filter(subtest=subtest, person__in=pupils).count() == 3
    exempt(unit, head_user, pupils[0], subtest, ground="language_training")
    # the exemption withdraws the automatic assignment, and the next run does not bring it back
    assignments_sync_mandatory(school_unit=unit)
    assert not Assignment.objects.filter(subtest=subtest, person=pupils[0]).exists()
    assert exempt_person_ids(subtest=subtest) == {pupils[0].pk}
    summary = assignments_create(
        actor=head_user, school_unit=unit, subtest=subtest, persons=[pupils[0]]
    )
    assert summary.refused[0]["reason"] == "Exempt from this test."
    assert AuditEvent.objects.filter(action="exemption.create").count() == 1


def test_no_exemption_without_a_head_teachers_decision(world, norway):
    unit, _head, pupils = norway
    admin = staff_member(unit, duty_role="Skoladministratör")
    role_assign(actor=None, person=admin.person, school_unit=unit, role=Role.SCHOOL_ADMINISTRATOR)
    with pytest.raises(ExamRefused, match="head teacher"):
        exempt(unit, admin, pupils[0], norwegian_subtest(), decided_by=admin.person)


def test_withdrawn_exemption_lets_automatic_assignment_return(norway):
    unit, head_user, pupils = norway
    subtest = norwegian_subtest()
    exemption = exempt(unit, head_user, pupils[0], subtest)
    with pytest.raises(ExamRefused):
        exemption_remove(actor=head_user, exemption=exemption, reason="")
    exemption_remove(actor=head_user, exemption=exemption, reason="Vedtak opphevet")
    assignments_sync_mandatory(school_unit=unit)
    assert Assignment.objects.filter(subtest=subtest, person=pupils[0]).exists()


def test_the_exemption_decision_date_is_recorded_and_never_in_the_future(norway):
    unit, head_user, pupils = norway
    subtest = norwegian_subtest()
    today = unit_today(unit)

    with pytest.raises(ExamRefused, match="in the future"):
        exempt(unit, head_user, pupils[0], subtest, decided_on=today + datetime.timedelta(days=1))
    decided = exempt(
        unit, head_user, pupils[0], subtest, decided_on=today - datetime.timedelta(days=12)
    )
    undated = exempt(unit, head_user, pupils[1], subtest)

    assert decided.decided_on == today - datetime.timedelta(days=12)
    assert undated.decided_on == today
    event = AuditEvent.objects.get(action="exemption.create", target_id=str(decided.public_id))
    assert event.after["decided_on"] == decided.decided_on.isoformat()
