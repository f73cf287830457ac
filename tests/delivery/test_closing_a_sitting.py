"""Every sitting can be closed: the proctor submits for a student, ending submits the tests the
proctor confirmed, the day's closing submits what is still open, and refusals count like the room.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from delivery import attempts, closing, save_rule, saves, sweeper
from delivery.models import Attempt, AttemptStatus, Notice, NoticeKind, Response
from exams.models import Item, SittingStatus
from provplattform.audit import AuditAction
from provplattform.errors import NotFound
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.delivery.attempt_helpers import local_at, make_sitting, proctor, started_attempt
from tests.delivery.presence_helpers import presence_of, store  # noqa: F401


@pytest.fixture
def ten_o_clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def submitted_seen():
    """What the submit subscribers (grading) are told."""
    seen: list[int] = []
    with attempts.submit_subscribers.replaced(lambda a: seen.append(a.pk)):
        yield seen


def _save(attempt, token, *answers):
    item = Item.objects.filter(subtest=attempt.sitting.subtest).first()
    for seq, answer in enumerate(answers, start=1):
        saves.responses_save(
            attempt_public_id=attempt.public_id,
            device_token=token,
            saves=[save_rule.Save(item=str(item.public_id), seq=seq, content=answer)],
        )
    return item


def _paused(world, sitting, person):
    attempt, token = started_attempt(world, sitting, person=person)
    return attempts.attempt_pause(actor=proctor(world), attempt=attempt), token


# --- the proctor submits for a student ------------------------------------------------------------


def test_proctor_submits_for_a_paused_student_with_the_latest_answers(
    world, ten_o_clock, submitted_seen
):
    sitting = make_sitting(world)
    attempt, token = started_attempt(world, sitting)
    item = _save(attempt, token, ["A"], ["B"])
    attempts.attempt_pause(actor=proctor(world), attempt=attempt)

    done = attempts.attempt_submit_for_student(
        actor=proctor(world), attempt=attempt, reason="Left the room while paused"
    )

    assert done.status == AttemptStatus.SUBMITTED and not done.auto_submitted
    assert Response.objects.get(attempt=attempt, item=item).content == ["B"]
    assert submitted_seen == [attempt.pk]
    event = AuditEvent.objects.get(action=AuditAction.ATTEMPT_PROCTOR_SUBMIT)
    assert event.reason == "Left the room while paused"
    assert event.actor_id == proctor(world).pk


def test_proctor_submit_needs_a_reason(world, ten_o_clock):
    sitting = make_sitting(world)
    attempt, _ = started_attempt(world, sitting)
    with pytest.raises(attempts.AttemptRefused) as refused:
        attempts.attempt_submit_for_student(actor=proctor(world), attempt=attempt, reason="  ")
    assert refused.value.code == "reason_required"
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.WORKING


@pytest.mark.parametrize("status", ["not_started", "submitted"])
def test_proctor_submit_refused_unless_the_test_is_open(world, ten_o_clock, status):
    sitting = make_sitting(world)
    attempts.attempts_ensure(sitting=sitting)
    attempt = Attempt.objects.filter(sitting=sitting).first()
    if status == "submitted":
        attempt, _ = started_attempt(world, sitting, person=attempt.person)
        attempts.attempt_submit(attempt=attempt)
    with pytest.raises(attempts.AttemptRefused) as refused:
        attempts.attempt_submit_for_student(actor=proctor(world), attempt=attempt, reason="x")
    assert refused.value.code == "not_open"


@pytest.mark.parametrize("who", ["outsider", "head_of_the_sibling_unit"])
def test_proctor_submit_refused_to_someone_not_proctoring_the_unit(world, ten_o_clock, who):
    sitting = make_sitting(world)
    attempt, _ = started_attempt(world, sitting)
    actor = world.outsider if who == "outsider" else world.sibling_head
    with pytest.raises(NotFound):
        attempts.attempt_submit_for_student(actor=actor, attempt=attempt, reason="x")
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.WORKING


# --- ending a sitting -------------------------------------------------------------------------


def test_end_refusal_counts_open_tests_as_the_room_does(world, ten_o_clock, store):  # noqa: F811
    # given one student working, one paused, and one whose connection was lost
    sitting = make_sitting(world)
    working, paused, lost = world.students_a[:3]
    started_attempt(world, sitting, person=working)
    _paused(world, sitting, paused)
    lost_attempt, _ = started_attempt(world, sitting, person=lost)
    store.connect(presence_of(lost_attempt), conn="c", now=local_at(9, 58).timestamp())
    store.close(presence_of(lost_attempt), conn="c", now=local_at(9, 59).timestamp())

    with pytest.raises(closing.OpenAttemptsRefused) as refused:
        closing.sitting_end(actor=proctor(world), sitting=sitting)

    # then the refusal counts each the way the room's counts label it
    assert str(refused.value) == (
        "3 students have not submitted (Working: 1, Paused: 1, Connection lost: 1)."
    )
    assert [(r["name"], r["status"]) for r in refused.value.open] == sorted(
        [(working.full_name, "working"), (paused.full_name, "paused"), (lost.full_name, "lost")]
    )
    assert Attempt.objects.get(pk=lost_attempt.pk).sitting.status == SittingStatus.SCHEDULED


def test_ending_submits_exactly_the_confirmed_open_tests(world, ten_o_clock, submitted_seen):
    sitting = make_sitting(world)
    paused, token = _paused(world, sitting, world.students_a[0])
    item = _save(paused, token)  # no answer: nothing saved
    working, token = started_attempt(world, sitting, person=world.students_a[1])
    _save(working, token, ["A"])
    open_ids = [str(paused.public_id), str(working.public_id)]

    ended = closing.sitting_end(actor=proctor(world), sitting=sitting, submit=open_ids)

    assert ended.status == SittingStatus.ENDED
    statuses = dict(Attempt.objects.filter(sitting=sitting).values_list("person_id", "status"))
    assert statuses == {
        world.students_a[0].pk: "submitted",
        world.students_a[1].pk: "submitted",
        world.students_a[2].pk: "absent",
    }
    assert Response.objects.get(attempt=working, item=item).content == ["A"]
    assert sorted(submitted_seen) == sorted([paused.pk, working.pk])
    reasons = AuditEvent.objects.filter(action=AuditAction.ATTEMPT_PROCTOR_SUBMIT).values_list(
        "reason", flat=True
    )
    assert list(reasons) == ["sitting ended", "sitting ended"]


def test_ending_refused_when_the_open_tests_changed_since_the_confirmation(world, ten_o_clock):
    sitting = make_sitting(world)
    paused, _ = _paused(world, sitting, world.students_a[0])
    # a second student starts after the proctor saw the list with only the first
    started_attempt(world, sitting, person=world.students_a[1])

    with pytest.raises(closing.OpenAttemptsRefused) as refused:
        closing.sitting_end(actor=proctor(world), sitting=sitting, submit=[str(paused.public_id)])

    assert refused.value.code == "open_changed"
    assert len(refused.value.open) == 2
    assert Attempt.objects.get(pk=paused.pk).status == AttemptStatus.PAUSED


# --- the day's closing --------------------------------------------------------------------------


def test_a_paused_test_is_submitted_when_the_opening_hours_end(
    world,
    ten_o_clock,
    submitted_seen,
    store,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr(sweeper, "_last_closing_check", None)
    sitting = make_sitting(world)
    paused, token = started_attempt(world, sitting)
    item = _save(paused, token, ["A"], ["B"])
    attempts.attempt_pause(actor=proctor(world), attempt=paused)

    ten_o_clock.move_to(local_at(16, 59))
    assert sweeper.sweep_once()["closing_submitted"] == 0
    ten_o_clock.move_to(local_at(17))
    assert sweeper.sweep_once()["closing_submitted"] == 1

    paused.refresh_from_db()
    assert paused.status == AttemptStatus.SUBMITTED and paused.auto_submitted
    assert Response.objects.get(attempt=paused, item=item).content == ["B"]
    assert submitted_seen == [paused.pk]
    assert AuditEvent.objects.filter(
        action=AuditAction.ATTEMPT_CLOSING_SUBMIT, target_id=str(paused.public_id)
    )
    notice = Notice.objects.get(sitting=sitting, kind=NoticeKind.SUBMITTED_AT_CLOSING)
    assert notice.person == paused.person
    # then the sitting can be ended without another confirmation
    assert closing.sitting_end(actor=proctor(world), sitting=sitting).status == "ended"


def test_a_sitting_can_close_earlier_than_the_opening_hours(world, ten_o_clock, store):  # noqa: F811
    sitting = make_sitting(world)
    sitting.closes_at = local_at(12)
    sitting.save()
    attempt, _ = started_attempt(world, sitting)
    attempts.attempt_pause(actor=proctor(world), attempt=attempt)
    ten_o_clock.move_to(local_at(11, 59))
    assert closing.attempts_submit_at_closing() == 0
    ten_o_clock.move_to(local_at(12))
    assert closing.attempts_submit_at_closing() == 1


def test_extended_time_running_past_closing_is_kept_and_the_deadline_submits(world, ten_o_clock):
    # given a sitting at 16:00 (45 minutes) and a student with 30 minutes added: deadline 17:15
    sitting = make_sitting(world, starts_at=local_at(16))
    ten_o_clock.move_to(local_at(16))
    extended, _ = started_attempt(world, sitting, person=world.students_a[0])
    attempts.attempt_add_time(actor=proctor(world), attempt=extended, minutes=30, reason="Beslut")
    paused, _ = started_attempt(world, sitting, person=world.students_a[1])
    attempts.attempt_pause(actor=proctor(world), attempt=paused)

    # when the opening hours end, only the paused test is submitted
    ten_o_clock.move_to(local_at(17))
    assert closing.attempts_submit_at_closing() == 1
    assert Attempt.objects.get(pk=extended.pk).status == AttemptStatus.WORKING
    assert Attempt.objects.get(pk=paused.pk).status == AttemptStatus.SUBMITTED
    # then the deadline (plus the grace) submits the extended one
    ten_o_clock.move_to(local_at(17, 18))
    assert closing.attempts_auto_submit_due() == 1
    assert Attempt.objects.get(pk=extended.pk).status == AttemptStatus.SUBMITTED


def test_the_celery_task_submits_at_closing(world, ten_o_clock):
    from delivery.tasks import submit_at_closing

    sitting = make_sitting(world)
    attempt, _ = started_attempt(world, sitting)
    ten_o_clock.move_to(local_at(17, 30))
    assert submit_at_closing() == 1
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.SUBMITTED


# --- every path reaches the subscribers ----------------------------------------------------------


@pytest.mark.parametrize("path", ["student", "deadline", "proctor", "end", "closing"])
def test_every_submit_path_reaches_the_submit_subscribers(world, ten_o_clock, submitted_seen, path):
    sitting = make_sitting(world, duration_minutes=10)
    attempt, _ = started_attempt(world, sitting)
    if path == "student":
        attempts.attempt_submit(attempt=attempt)
    elif path == "deadline":
        ten_o_clock.shift(datetime.timedelta(minutes=15))
        closing.attempts_auto_submit_due()
    elif path == "proctor":
        attempts.attempt_submit_for_student(actor=proctor(world), attempt=attempt, reason="x")
    elif path == "end":
        closing.sitting_end(actor=proctor(world), sitting=sitting, submit=[str(attempt.public_id)])
    else:
        attempts.attempt_pause(actor=proctor(world), attempt=attempt)
        ten_o_clock.move_to(local_at(17))
        closing.attempts_submit_at_closing()
    assert submitted_seen == [attempt.pk]


# --- the proctor room -------------------------------------------------------------------------


def test_the_room_submits_for_a_student_and_ends_after_listing_the_open_tests(
    world,
    ten_o_clock,
    client,
    store,  # noqa: F811
):
    sitting = make_sitting(world)
    paused, _ = _paused(world, sitting, world.students_a[0])
    client.force_login(proctor(world))
    url = lambda action: reverse("proctor-action", args=[sitting.public_id, action])  # noqa: E731

    # the state lists what ending would submit
    state = client.get(reverse("proctor-state", args=[sitting.public_id])).json()
    assert [r["attempt"] for r in state["open"]] == [str(paused.public_id)]
    refused = client.post(url("end"))
    assert refused.status_code == 409 and refused.json()["code"] == "still_open"
    assert refused.json()["open"][0]["status"] == "paused"
    no_reason = client.post(url("submit"), {"attempt": str(paused.public_id)})
    assert no_reason.status_code == 409 and no_reason.json()["code"] == "reason_required"

    working, _ = started_attempt(world, sitting, person=world.students_a[1])
    submitted = client.post(url("submit"), {"attempt": str(paused.public_id), "reason": "Ill"})
    assert submitted.status_code == 200
    ended = client.post(url("end"), {"confirmed": "1", "submit": [str(working.public_id)]})
    assert ended.status_code == 200
    assert Attempt.objects.get(pk=working.pk).status == AttemptStatus.SUBMITTED
    html = client.get(reverse("proctor-room", args=[sitting.public_id])).content.decode()
    assert 'id="end-dialog"' in html


# --- the API ------------------------------------------------------------------------------------


def _api(sitting, tail: str) -> str:
    return f"/api/v1/units/{sitting.school_unit.public_id}/sittings/{sitting.public_id}/{tail}"


def test_api_submits_for_a_student_with_a_reason(world, ten_o_clock, client):
    sitting = make_sitting(world)
    paused, _ = _paused(world, sitting, world.students_a[0])
    client.force_login(proctor(world))
    url = _api(sitting, f"attempts/{paused.public_id}/submit/")

    missing = client.post(url, {}, content_type="application/json")
    assert missing.status_code == 400
    done = client.post(url, {"reason": "Went home ill"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "submitted"
    again = client.post(url, {"reason": "Twice"}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "not_open"


def test_api_end_lists_the_open_tests_then_submits_the_confirmed_ones(world, ten_o_clock, client):
    sitting = make_sitting(world)
    paused, _ = _paused(world, sitting, world.students_a[0])
    client.force_login(proctor(world))

    refused = client.post(_api(sitting, "end/"), {}, content_type="application/json")
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "still_open"
    assert body["detail"] == "1 student has not submitted (Paused: 1)."
    assert [r["attempt"] for r in body["open"]] == [str(paused.public_id)]

    ended = client.post(
        _api(sitting, "end/"),
        {"submit": [str(paused.public_id)], "reason": "Day over"},
        content_type="application/json",
    )
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    assert AuditEvent.objects.get(action=AuditAction.ATTEMPT_PROCTOR_SUBMIT).reason == "Day over"


@pytest.mark.parametrize("role", [Role.ASSESSOR, Role.OTHER_STAFF])
def test_api_closing_actions_are_not_found_for_staff_who_do_not_proctor(
    world, ten_o_clock, client, role
):
    sitting = make_sitting(world)
    paused, _ = _paused(world, sitting, world.students_a[0])
    client.force_login(world.staff[role])
    for url, data in (
        (_api(sitting, f"attempts/{paused.public_id}/submit/"), {"reason": "x"}),
        (_api(sitting, "end/"), {"submit": [str(paused.public_id)]}),
    ):
        assert client.post(url, data, content_type="application/json").status_code == 404
    assert Attempt.objects.get(pk=paused.pk).status == AttemptStatus.PAUSED
