"""Registration, automatic and manual assignment, with their refusals and summaries."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from exams.models import Assignment, AssignmentSource, Registration
from exams.preparation.assignments import (
    assignment_remove,
    assignment_replace,
    assignments_create,
    assignments_create_for_grade,
    assignments_create_for_group,
    assignments_sync_mandatory,
    registration_create,
)
from exams.preparation.common import ExamRefused
from exams.preparation.decisions import adjustments_lock
from exams.preparation.sittings import paper_replacement_record
from provplattform.models import AuditEvent
from schools import hooks
from schools.roles import Role
from tests.exams.helpers import subtest_in_window
from tests.factories import SubtestFactory, TestDefinitionFactory, student

pytestmark = pytest.mark.django_db


def admin(world):
    return world.staff[Role.TEST_ADMINISTRATOR]


# --- manual assignment -------------------------------------------------------------------------


def test_assignment_before_the_window_opens_is_refused_with_the_date(world):
    # given a subtest whose window starts in 30 days (assignment opens 21 days before)
    subtest = subtest_in_window(days_until_window=30)
    # when
    summary = assignments_create(
        actor=admin(world), school_unit=world.unit, subtest=subtest, persons=world.students_a
    )
    # then
    assert summary.changed == []
    assert len(summary.refused) == 3
    opens = (timezone.localdate() + datetime.timedelta(days=9)).isoformat()
    assert all(opens in r["reason"] for r in summary.refused)
    assert not Assignment.objects.exists()


def test_assignment_opens_exactly_the_configured_days_before_the_window(world):
    subtest = subtest_in_window(days_until_window=10, assignment_opens_days_before=10)
    summary = assignments_create(
        actor=admin(world), school_unit=world.unit, subtest=subtest, persons=world.students_a[:1]
    )
    assert len(summary.changed) == 1


def test_assignment_after_the_window_closed_is_refused(world):
    subtest = subtest_in_window(days_until_window=-40, length=10)
    summary = assignments_create(
        actor=admin(world), school_unit=world.unit, subtest=subtest, persons=world.students_a[:1]
    )
    assert "closed" in summary.refused[0]["reason"]


def test_bulk_summary_lists_changes_and_refusals_with_reasons(world):
    subtest = subtest_in_window()
    assignments_create(
        actor=admin(world), school_unit=world.unit, subtest=subtest, persons=world.students_a[:1]
    )
    persons = [*world.students_a, world.sibling_students[0]]
    summary = assignments_create(
        actor=admin(world), school_unit=world.unit, subtest=subtest, persons=persons
    )
    reasons = {r["person"]: r["reason"] for r in summary.refused}
    assert reasons[str(world.students_a[0].public_id)] == "Already assigned."
    assert reasons[str(world.sibling_students[0].public_id)] == (
        "Not enrolled at this school unit."
    )
    assert {c["person"] for c in summary.changed} == {
        str(p.public_id) for p in world.students_a[1:]
    }
    assert summary.as_dict()["changed_count"] == 2
    assert summary.as_dict()["refused_count"] == 2


def test_assignment_by_group_reaches_only_its_members_and_is_audited(world):
    subtest = subtest_in_window()
    summary = assignments_create_for_group(
        actor=admin(world), school_unit=world.unit, subtest=subtest, group=world.group_a
    )
    assert len(summary.changed) == 3
    assert set(Assignment.objects.values_list("person_id", flat=True)) == {
        p.pk for p in world.students_a
    }
    assert set(Assignment.objects.values_list("source", flat=True)) == {AssignmentSource.GROUP}
    assert AuditEvent.objects.filter(action="assignment.create").count() == 3


def test_assignment_by_grade_skips_other_grades(world):
    student(world.unit, school_year=8)
    subtest = subtest_in_window()
    summary = assignments_create_for_grade(
        actor=admin(world), school_unit=world.unit, subtest=subtest
    )
    assert len(summary.changed) == 6


def test_group_of_another_unit_is_refused(world):
    from tests.factories import TeachingGroupFactory

    foreign = TeachingGroupFactory(school_unit=world.sibling_unit)
    with pytest.raises(ExamRefused):
        assignments_create_for_group(
            actor=admin(world),
            school_unit=world.unit,
            subtest=subtest_in_window(),
            group=foreign,
        )


def test_teacher_may_not_assign(world):
    with pytest.raises(ExamRefused):
        assignments_create(
            actor=world.staff[Role.TEACHER],
            school_unit=world.unit,
            subtest=subtest_in_window(),
            persons=world.students_a,
        )


def test_wrong_assignment_is_corrected_on_the_day_with_a_reason(world):
    wrong, right = subtest_in_window(), subtest_in_window()
    assignments_create(
        actor=admin(world), school_unit=world.unit, subtest=wrong, persons=world.students_a[:1]
    )
    assignment = Assignment.objects.get()
    with pytest.raises(ExamRefused):
        assignment_remove(actor=admin(world), assignment=assignment, reason="  ")
    replaced = assignment_replace(
        actor=admin(world), assignment=assignment, subtest=right, reason="Fel delprov"
    )
    assert replaced.subtest == right
    removal = AuditEvent.objects.get(action="assignment.remove")
    assert removal.reason == "Fel delprov"
    assert removal.actor == admin(world)


def test_an_assignment_the_student_has_started_cannot_be_removed_or_replaced(world):
    subtest, other = subtest_in_window(), subtest_in_window()
    started, on_paper, untouched = world.students_a
    assignments_create(
        actor=admin(world), school_unit=world.unit, subtest=subtest, persons=world.students_a
    )
    adjustments_lock(person=started, subtest=subtest)
    paper_replacement_record(
        actor=admin(world), school_unit=world.unit, subtest=subtest, person=on_paper
    )

    for person, refusal in (
        (started, "already started this subtest"),
        (on_paper, "paper replacement test"),
    ):
        assignment = Assignment.objects.get(subtest=subtest, person=person)
        with pytest.raises(ExamRefused, match=refusal):
            assignment_remove(actor=admin(world), assignment=assignment, reason="Fel elev")
        with pytest.raises(ExamRefused, match=refusal):
            assignment_replace(
                actor=admin(world), assignment=assignment, subtest=other, reason="Fel delprov"
            )
        assert Assignment.objects.filter(subtest=subtest, person=person).exists()

    assignment_remove(
        actor=admin(world),
        assignment=Assignment.objects.get(subtest=subtest, person=untouched),
        reason="Fel elev",
    )
    assert not Assignment.objects.filter(subtest=subtest, person=untouched).exists()


# --- registration and automatic assignment -----------------------------------------------------


def voluntary_test(**kwargs):
    today = timezone.localdate()
    test = TestDefinitionFactory(
        mandatory=False,
        registration_opens=today - datetime.timedelta(days=5),
        registration_closes=today + datetime.timedelta(days=5),
        **kwargs,
    )
    SubtestFactory(test=test)
    return test


def test_registration_outside_its_window_is_refused_with_the_window(world):
    test = voluntary_test()
    later = timezone.now() + datetime.timedelta(days=10)
    with (
        time_machine.travel(later, tick=False),
        pytest.raises(ExamRefused, match="Registration is open from"),
    ):
        registration_create(actor=admin(world), school_unit=world.unit, test=test)
    assert not Registration.objects.exists()


def test_registration_makes_the_test_mandatory_for_the_grade(world):
    test = voluntary_test()
    student(world.unit, school_year=8)
    assert assignments_sync_mandatory(school_unit=world.unit) == 0  # voluntary: nothing yet
    registration_create(actor=admin(world), school_unit=world.unit, test=test)
    assert Assignment.objects.filter(source=AssignmentSource.AUTOMATIC).count() == 6
    assert AuditEvent.objects.filter(action="registration.create").exists()


def test_registering_a_mandatory_test_is_refused(world):
    with pytest.raises(ExamRefused, match="mandatory"):
        registration_create(
            actor=admin(world), school_unit=world.unit, test=subtest_in_window().test
        )


def test_mandatory_tests_are_assigned_only_in_the_units_country_and_grade(world):
    subtest = subtest_in_window()
    student(world.unit, school_year=8)
    created = assignments_sync_mandatory()
    # six grade-9 students at the unit + two at the sibling unit (same Swedish organiser)
    assert created == 8
    assert not Assignment.objects.filter(school_unit=world.other_org_unit).exists()
    assert assignments_sync_mandatory() == 0  # idempotent
    assert Assignment.objects.filter(subtest=subtest).count() == 8


def test_a_student_transferred_after_the_first_run_is_assigned_by_the_transfer_hook(world):
    subtest = subtest_in_window()
    assignments_sync_mandatory()
    # given a student the organiser transfers later
    newcomer = student(world.unit)
    # when the transfer run commits, schools calls its subscribers
    for callback in hooks.transfer_applied:
        callback(world.unit.organiser, None)
    # then
    assert Assignment.objects.filter(subtest=subtest, person=newcomer).exists()


def test_the_beat_task_assigns_students_transferred_later(world):
    from exams.tasks import sync_mandatory_assignments

    subtest = subtest_in_window()
    sync_mandatory_assignments()
    newcomer = student(world.unit)
    sync_mandatory_assignments()
    assert Assignment.objects.filter(subtest=subtest, person=newcomer).exists()


def test_no_automatic_assignment_after_the_window_closed(world):
    subtest = subtest_in_window(days_until_window=-40, length=10)
    assert assignments_sync_mandatory() == 0
    assert not Assignment.objects.filter(subtest=subtest).exists()
