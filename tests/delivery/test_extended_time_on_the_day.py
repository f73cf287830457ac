"""Extended time changed on the day (exams.adjustment_set) reaches an attempt already running."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from delivery import attempts, events
from delivery.models import Attempt, AttemptStatus
from exams.preparation.common import ExamRefused
from exams.preparation.decisions import adjustment_set
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.delivery.attempt_helpers import local_at, make_sitting, proctor, started_attempt

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def running(world, clock):
    """A 45-minute attempt started at 10:00 (deadline 10:45) by the first student."""
    sitting = make_sitting(world, duration_minutes=45)
    attempt, _ = started_attempt(world, sitting, person=world.students_a[0])
    assert attempt.deadline == local_at(10, 45)
    return attempt


def change_on_day(world, attempt, *, minutes, reason="Rektors beslut på provdagen", **kwargs):
    return adjustment_set(
        actor=kwargs.pop("actor", world.staff[Role.SCHOOL_ADMINISTRATOR]),
        school_unit=world.unit,
        person=attempt.person,
        test=attempt.sitting.subtest.test,
        subtest=kwargs.pop("subtest", attempt.sitting.subtest),
        extended_minutes=minutes,
        decided_by=world.staff[Role.HEAD_TEACHER].person,
        reason=reason,
        **kwargs,
    )


def test_more_extended_time_on_the_day_moves_the_running_deadline(world, running, monkeypatch):
    sent = []
    monkeypatch.setattr(events, "send_on_commit", lambda group, event: sent.append((group, event)))
    # when the administrator gives 15 minutes of extended time at 10:10
    with time_machine.travel(local_at(10, 10), tick=False):
        change_on_day(world, running, minutes=15)
    # then
    attempt = Attempt.objects.get(pk=running.pk)
    assert attempt.extended_seconds == 15 * 60
    assert attempt.deadline == local_at(11)
    # the student's client and the proctor room are told, as for added time
    groups = {g for g, e in sent if e["type"] == "attempt.changed"}
    assert groups == {f"attempt.{attempt.public_id}", f"sitting.{attempt.sitting.public_id}"}
    assert all(datetime.datetime.fromisoformat(e["deadline"]) == local_at(11) for _, e in sent)
    event = AuditEvent.objects.get(action="attempt.extended_time_change")
    assert event.before["extended_seconds"] == 0 and event.after["extended_seconds"] == 900
    assert event.reason == "Rektors beslut på provdagen"
    assert event.actor == world.staff[Role.SCHOOL_ADMINISTRATOR]


def test_a_whole_test_adjustment_reaches_the_running_subtest(world, running):
    change_on_day(world, running, minutes=10, subtest=None)
    assert Attempt.objects.get(pk=running.pk).deadline == local_at(10, 55)


def test_a_paused_attempt_gets_the_time_too(world, running):
    attempts.attempt_pause(actor=proctor(world), attempt=running)
    change_on_day(world, running, minutes=5)
    attempt = Attempt.objects.get(pk=running.pk)
    assert attempt.status == AttemptStatus.PAUSED
    assert attempt.deadline == local_at(10, 50)


def test_a_reduction_that_leaves_time_is_applied(world, running):
    change_on_day(world, running, minutes=30)
    assert Attempt.objects.get(pk=running.pk).deadline == local_at(11, 15)
    with time_machine.travel(local_at(10, 20), tick=False):
        change_on_day(world, running, minutes=10, reason="Fel antal minuter inmatat")
    assert Attempt.objects.get(pk=running.pk).deadline == local_at(10, 55)


def test_a_reduction_that_would_end_the_attempt_is_refused_and_nothing_changes(world, running):
    adjustment = change_on_day(world, running, minutes=30)
    # at 11:00 the student has 15 minutes left; taking away 20 would end the test already
    with (
        time_machine.travel(local_at(11), tick=False),
        pytest.raises(ExamRefused, match="Give at least 16 minutes"),
    ):
        change_on_day(world, running, minutes=10)
    attempt = Attempt.objects.get(pk=running.pk)
    assert attempt.deadline == local_at(11, 15)
    adjustment.refresh_from_db()
    assert adjustment.extended_minutes == 30  # the adjustment change is rolled back too
    assert AuditEvent.objects.filter(action="attempt.extended_time_change").count() == 1


def test_a_reduction_leaving_less_than_a_minute_is_refused(world, running):
    change_on_day(world, running, minutes=10)  # deadline 10:55
    half_past = local_at(10, 54) + datetime.timedelta(seconds=30)
    with time_machine.travel(half_past, tick=False), pytest.raises(ExamRefused):
        change_on_day(world, running, minutes=9)  # would end at 10:54, before 10:55:30


def test_other_students_and_submitted_attempts_are_not_touched(world, running):
    # given a classmate who submitted
    other, _ = started_attempt(world, running.sitting, person=world.students_a[1])
    attempts.attempt_submit(attempt=other)
    before = Attempt.objects.get(pk=other.pk).deadline
    # when the classmate's adjustment changes on the day
    change_on_day(world, other, minutes=20)
    # then the submitted attempt and the running one of the first student stay as they were
    assert Attempt.objects.get(pk=other.pk).deadline == before
    assert Attempt.objects.get(pk=running.pk).deadline == local_at(10, 45)


def test_a_student_who_has_not_started_reads_the_time_at_the_start(world, clock):
    sitting = make_sitting(world)
    person = world.students_a[2]
    adjustment_set(
        actor=world.staff[Role.SCHOOL_ADMINISTRATOR],
        school_unit=world.unit,
        person=person,
        test=sitting.subtest.test,
        subtest=sitting.subtest,
        extended_minutes=15,
        decided_by=world.staff[Role.HEAD_TEACHER].person,
    )
    attempt, _ = started_attempt(world, sitting, person=person)
    assert attempt.deadline == local_at(11)
    assert not AuditEvent.objects.filter(action="attempt.extended_time_change").exists()


def test_only_an_administrator_may_change_it_on_the_day(world, running):
    with pytest.raises(ExamRefused):
        change_on_day(world, running, minutes=15, actor=world.staff[Role.TEACHER])
    assert Attempt.objects.get(pk=running.pk).deadline == local_at(10, 45)


def test_exams_does_not_import_delivery():
    import ast
    import pathlib

    import exams

    for path in pathlib.Path(exams.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("delivery"), path
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("delivery") for a in node.names), path


def test_removing_the_adjustment_on_the_day_takes_the_extended_time_back(world, running):
    from exams.models import Adjustment
    from exams.preparation.decisions import adjustment_remove

    with time_machine.travel(local_at(10, 10), tick=False):
        adjustment = change_on_day(world, running, minutes=15)
    assert Attempt.objects.get(pk=running.pk).deadline == local_at(11)
    # when the administrator removes it at 10:20, a mistake corrected
    with time_machine.travel(local_at(10, 20), tick=False):
        adjustment_remove(
            actor=world.staff[Role.SCHOOL_ADMINISTRATOR],
            adjustment=adjustment,
            reason="Fel elev",
        )
    # then the running attempt is back to its 45 minutes
    assert Attempt.objects.get(pk=running.pk).deadline == local_at(10, 45)
    assert not Adjustment.objects.filter(pk=adjustment.pk).exists()


def test_removal_that_would_end_the_test_at_once_is_refused_and_nothing_changes(world, running):
    from exams.models import Adjustment
    from exams.preparation.decisions import adjustment_remove

    with time_machine.travel(local_at(10, 10), tick=False):
        adjustment = change_on_day(world, running, minutes=15)
    adjustment_id = adjustment.pk
    # when, 30 seconds before the original deadline, someone removes the extra 15 minutes
    with (
        time_machine.travel(local_at(10, 44) + datetime.timedelta(seconds=30), tick=False),
        pytest.raises(ExamRefused),
    ):
        adjustment_remove(
            actor=world.staff[Role.SCHOOL_ADMINISTRATOR],
            adjustment=adjustment,
            reason="Fel elev",
        )
    # then the student keeps the time and the adjustment stays
    assert Attempt.objects.get(pk=running.pk).deadline == local_at(11)
    assert Adjustment.objects.filter(pk=adjustment_id).exists()
