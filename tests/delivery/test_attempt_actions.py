import datetime

import pytest
import time_machine

from delivery import attempts, closing, events, save_rule, saves
from delivery.models import Attempt, AttemptStatus, Response
from exams.models import Item, SittingStatus
from provplattform.errors import NotFound
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.delivery.attempt_helpers import local_at, make_sitting, proctor, started_attempt


@pytest.fixture
def ten_o_clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


def test_release_whole_sitting_releases_every_student(world, ten_o_clock):
    sitting = make_sitting(world)
    released = attempts.attempt_release(actor=proctor(world), sitting=sitting)
    assert released == len(world.students_a)
    assert not Attempt.objects.filter(sitting=sitting, released_at__isnull=True).exists()


def test_release_one_student_leaves_the_others_waiting(world, ten_o_clock):
    sitting = make_sitting(world)
    one = world.students_a[0]
    attempts.attempt_release(actor=proctor(world), sitting=sitting, person=one)
    assert Attempt.objects.get(sitting=sitting, person=one).released_at is not None
    assert Attempt.objects.filter(sitting=sitting, released_at__isnull=True).count() == 2


def test_release_refused_before_opening_hours(world):
    sitting = make_sitting(world)
    for moment in (local_at(7, 59), local_at(17, 0)):
        with time_machine.travel(moment, tick=False), pytest.raises(attempts.AttemptRefused):
            attempts.attempt_release(actor=proctor(world), sitting=sitting)


def test_release_refused_on_another_day(world):
    sitting = make_sitting(world, starts_at=local_at(9, days=1))
    with time_machine.travel(local_at(10), tick=False), pytest.raises(attempts.AttemptRefused):
        attempts.attempt_release(actor=proctor(world), sitting=sitting)


@pytest.mark.parametrize("role", [Role.ASSESSOR, Role.OTHER_STAFF, Role.ASSESSMENT_LEAD])
def test_release_refused_for_staff_without_the_proctor_role(world, ten_o_clock, role):
    sitting = make_sitting(world)
    with pytest.raises(NotFound):
        attempts.attempt_release(actor=world.staff[role], sitting=sitting)
    assert not Attempt.objects.filter(released_at__isnull=False).exists()


def test_proctor_actions_refused_for_another_units_staff(world, ten_o_clock):
    sitting = make_sitting(world)
    attempt, _ = started_attempt(world, sitting)
    for action in (
        lambda a: attempts.attempt_release(actor=world.sibling_head, sitting=sitting),
        lambda a: attempts.attempt_pause(actor=world.sibling_head, attempt=a),
        lambda a: attempts.attempt_add_time(
            actor=world.sibling_head, attempt=a, minutes=5, reason="x"
        ),
        lambda a: attempts.attempt_mark_absent(actor=world.outsider, attempt=a),
        lambda a: closing.sitting_end(actor=world.outsider, sitting=sitting),
    ):
        with pytest.raises(NotFound):
            action(attempt)
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.WORKING and attempt.added_seconds == 0


def test_start_sets_deadline_from_duration(world, ten_o_clock):
    sitting = make_sitting(world, duration_minutes=45)
    attempt, _ = started_attempt(world, sitting)
    assert attempt.status == AttemptStatus.WORKING
    assert attempt.deadline == local_at(10) + datetime.timedelta(minutes=45)


def test_pause_credits_the_paused_time(world, ten_o_clock):
    sitting = make_sitting(world)
    attempt, _ = started_attempt(world, sitting)
    attempts.attempt_pause(actor=proctor(world), attempt=attempt)
    ten_o_clock.shift(datetime.timedelta(minutes=7))
    attempt = attempts.attempt_resume(actor=proctor(world), attempt=attempt)
    assert attempt.deadline == local_at(10) + datetime.timedelta(minutes=52)


def test_add_time_needs_a_reason_and_is_audited(world, ten_o_clock):
    sitting = make_sitting(world)
    attempt, _ = started_attempt(world, sitting)
    with pytest.raises(attempts.AttemptRefused):
        attempts.attempt_add_time(actor=proctor(world), attempt=attempt, minutes=10, reason=" ")
    attempt = attempts.attempt_add_time(
        actor=proctor(world), attempt=attempt, minutes=10, reason="Fire alarm"
    )
    assert attempt.deadline == local_at(10) + datetime.timedelta(minutes=55)
    event = AuditEvent.objects.get(action="attempt.add_time")
    assert event.reason == "Fire alarm" and event.actor == proctor(world)


def test_live_event_reaches_the_sitting_group_after_commit(world, ten_o_clock, monkeypatch):
    sent = []
    monkeypatch.setattr(events, "send_on_commit", lambda group, event: sent.append((group, event)))
    sitting = make_sitting(world)
    attempt, _ = started_attempt(world, sitting)
    sent.clear()
    attempts.attempt_pause(actor=proctor(world), attempt=attempt)
    group, event = next(s for s in sent if s[0].startswith("sitting."))
    assert group == f"sitting.{sitting.public_id}"
    assert event == {
        "type": "attempt.changed",
        "attempt": str(attempt.public_id),
        "person": str(attempt.person.public_id),
        "status": "paused",
        "deadline": attempt.deadline.isoformat(),
        "released": True,
    }


def test_mark_absent_only_before_start(world, ten_o_clock):
    sitting = make_sitting(world)
    attempt, _ = started_attempt(world, sitting)
    with pytest.raises(attempts.AttemptRefused):
        attempts.attempt_mark_absent(actor=proctor(world), attempt=attempt)
    other = Attempt.objects.get(sitting=sitting, person=world.students_a[1])
    assert attempts.attempt_mark_absent(actor=proctor(world), attempt=other).status == "absent"


def test_auto_submit_waits_for_deadline_and_grace_and_keeps_latest_answers(
    world, ten_o_clock, settings
):
    settings.DELIVERY_LATE_GRACE_S = 60
    sitting = make_sitting(world, duration_minutes=10)
    attempt, token = started_attempt(world, sitting)
    item = Item.objects.filter(subtest=sitting.subtest).first()
    for seq, answer in ((1, ["A"]), (2, ["B"])):
        saves.responses_save(
            attempt_public_id=attempt.public_id,
            device_token=token,
            saves=[save_rule.Save(item=str(item.public_id), seq=seq, content=answer)],
        )
    ten_o_clock.shift(datetime.timedelta(minutes=10))
    assert closing.attempts_auto_submit_due() == 0  # at the deadline, still inside the grace
    ten_o_clock.shift(datetime.timedelta(seconds=60))
    assert closing.attempts_auto_submit_due() == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED and attempt.auto_submitted
    assert Response.objects.get(attempt=attempt, item=item).content == ["B"]


def test_paused_attempt_is_never_auto_submitted(world, ten_o_clock):
    sitting = make_sitting(world, duration_minutes=10)
    attempt, _ = started_attempt(world, sitting)
    attempts.attempt_pause(actor=proctor(world), attempt=attempt)
    ten_o_clock.shift(datetime.timedelta(hours=2))
    assert closing.attempts_auto_submit_due() == 0


def test_reopen_gives_back_the_time_left_at_submit(world, ten_o_clock):
    sitting = make_sitting(world, duration_minutes=45)
    attempt, _ = started_attempt(world, sitting)
    ten_o_clock.shift(datetime.timedelta(minutes=15))
    attempts.attempt_submit(attempt=attempt)
    ten_o_clock.shift(datetime.timedelta(minutes=40))
    with pytest.raises(attempts.AttemptRefused):
        attempts.attempt_reopen(actor=proctor(world), attempt=attempt, reason="")
    attempt = attempts.attempt_reopen(actor=proctor(world), attempt=attempt, reason="Wrong click")
    assert attempt.status == AttemptStatus.WORKING
    assert attempt.deadline - local_at(10, 55) == datetime.timedelta(minutes=30)


def test_sitting_end_refused_while_someone_works_then_marks_the_rest_absent(world, ten_o_clock):
    sitting = make_sitting(world)
    attempt, _ = started_attempt(world, sitting)
    with pytest.raises(attempts.AttemptRefused):
        closing.sitting_end(actor=proctor(world), sitting=sitting)
    attempts.attempt_submit(attempt=attempt)
    sitting = closing.sitting_end(actor=proctor(world), sitting=sitting)
    assert sitting.status == SittingStatus.ENDED
    assert Attempt.objects.filter(sitting=sitting, status=AttemptStatus.ABSENT).count() == 2


def _timed_out(world, ten_o_clock, *, duration_minutes=10):
    """A test whose time ran out: the sweeper submitted it at deadline + grace."""
    sitting = make_sitting(world, duration_minutes=duration_minutes)
    attempt, token = started_attempt(world, sitting)
    ten_o_clock.shift(datetime.timedelta(minutes=duration_minutes, seconds=121))
    assert closing.attempts_auto_submit_due() == 1
    return Attempt.objects.get(pk=attempt.pk), token


def test_reopen_after_the_time_ran_out_requires_minutes(world, ten_o_clock):
    attempt, _ = _timed_out(world, ten_o_clock)
    ten_o_clock.shift(datetime.timedelta(minutes=3))
    with pytest.raises(attempts.AttemptRefused) as refused:
        attempts.attempt_reopen(actor=proctor(world), attempt=attempt, reason="Power cut")
    assert refused.value.code == "minutes_required"
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.SUBMITTED
    for bad in (0, -5, 601):
        with pytest.raises(attempts.AttemptRefused):
            attempts.attempt_reopen(
                actor=proctor(world), attempt=attempt, reason="Power cut", minutes=bad
            )


def test_reopened_timed_out_attempt_gets_the_minutes_from_now_and_can_save(world, ten_o_clock):
    # given a test the sweeper submitted at deadline + grace
    attempt, token = _timed_out(world, ten_o_clock)
    ten_o_clock.shift(datetime.timedelta(minutes=3))
    now = datetime.datetime.now(datetime.UTC)
    # when the proctor reopens it with 10 minutes
    attempt = attempts.attempt_reopen(
        actor=proctor(world), attempt=attempt, reason="Power cut", minutes=10
    )
    # then the student has 10 minutes from now, the sweeper leaves it alone, and saves count
    assert attempt.status == AttemptStatus.WORKING
    assert attempt.deadline >= now + datetime.timedelta(minutes=10)
    assert attempt.deadline < now + datetime.timedelta(minutes=10, seconds=2)
    total = (
        attempt.duration_seconds
        + attempt.extended_seconds
        + attempt.added_seconds
        + attempt.paused_seconds
    )
    assert attempt.deadline == attempt.started_at + datetime.timedelta(seconds=total)
    assert closing.attempts_auto_submit_due() == 0
    item = Item.objects.filter(subtest=attempt.sitting.subtest).first()
    result = saves.responses_save(
        attempt_public_id=attempt.public_id,
        device_token=token,
        saves=[save_rule.Save(item=str(item.public_id), seq=1, content="after reopen")],
    )
    assert not result.refused and result.acked
    added = AuditEvent.objects.get(action="attempt.add_time", target_id=str(attempt.public_id))
    assert added.reason == "Power cut" and added.after["minutes"] == 10
    assert AuditEvent.objects.filter(
        action="attempt.reopen", target_id=str(attempt.public_id)
    ).exists()
    # and the sweeper submits it again only when the new time is up
    ten_o_clock.shift(datetime.timedelta(minutes=10, seconds=121))
    assert closing.attempts_auto_submit_due() == 1


def test_reopen_of_an_early_submit_adds_minutes_on_top_of_the_time_left(world, ten_o_clock):
    sitting = make_sitting(world, duration_minutes=45)
    attempt, _ = started_attempt(world, sitting)
    ten_o_clock.shift(datetime.timedelta(minutes=15))
    attempts.attempt_submit(attempt=attempt)
    ten_o_clock.shift(datetime.timedelta(minutes=5))
    attempt = attempts.attempt_reopen(
        actor=proctor(world), attempt=attempt, reason="Wrong click", minutes=5
    )
    assert attempt.deadline - local_at(10, 20) == datetime.timedelta(minutes=35)
