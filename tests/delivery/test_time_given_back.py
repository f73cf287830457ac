"""Time given back: each outage and each device switch is offered on the student's row with one
click, audited, once."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from delivery import attempts, devices
from delivery.models import Attempt, Notice, NoticeKind, Response
from exams.models import Item
from provplattform.audit import AuditAction
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt
from tests.delivery.presence_helpers import store  # noqa: F401


@pytest.fixture
def clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def room(world, clock, store, client):  # noqa: F811
    sitting = make_sitting(world)
    client.force_login(world.staff[Role.PROCTOR])
    return sitting


def _outage(attempt: Attempt, seconds: int) -> Notice:
    return Notice.objects.create(
        sitting=attempt.sitting,
        school_unit=attempt.sitting.school_unit,
        room=attempt.sitting.room,
        person=attempt.person,
        kind=NoticeKind.CONNECTION_RESTORED,
        data={"attempt": str(attempt.public_id), "outage_seconds": seconds},
    )


def _give_back(client, sitting, attempt, notice):
    return client.post(
        reverse("proctor-action", args=[sitting.public_id, "give_back"]),
        {"attempt": str(attempt.public_id), "notice": str(getattr(notice, "pk", notice))},
    )


def _row(client, sitting, attempt) -> str:
    html = client.get(reverse("proctor-room", args=[sitting.public_id])).content.decode()
    return html.split(f'data-attempt="{attempt.public_id}"', 1)[1].split("</tr>", 1)[0]


def test_an_outage_shows_its_length_and_one_click_gives_the_time_back(world, room, client):
    attempt, _ = started_attempt(world, room)
    notice = _outage(attempt, 150)
    row = _row(client, room, attempt)
    assert "Offline for 2 min 30 s" in row
    assert f'data-give-back="{notice.pk}"' in row and "Give back 3 min" in row
    before = attempt.deadline

    answer = _give_back(client, room, attempt, notice)

    assert answer.status_code == 200 and answer.json()["minutes"] == 3
    attempt.refresh_from_db()
    assert attempt.deadline - before == datetime.timedelta(minutes=3)
    given = AuditEvent.objects.get(action=AuditAction.ATTEMPT_TIME_GIVEN_BACK)
    assert given.after["notice"] == notice.pk and given.after["minutes"] == 3
    added = AuditEvent.objects.get(action="attempt.add_time")
    assert "3 min" in added.reason
    assert "data-give-back" not in _row(client, room, attempt)


def test_the_same_outage_is_given_back_only_once(world, room, client):
    attempt, _ = started_attempt(world, room)
    notice = _outage(attempt, 90)
    assert _give_back(client, room, attempt, notice).status_code == 200
    again = _give_back(client, room, attempt, notice)
    assert again.status_code == 409 and again.json()["code"] == "given_back"
    assert AuditEvent.objects.filter(action="attempt.add_time").count() == 1


def test_a_short_drop_is_not_offered_and_is_refused(world, room, client):
    attempt, _ = started_attempt(world, room)
    notice = _outage(attempt, 12)
    assert "data-give-back" not in _row(client, room, attempt)
    assert _give_back(client, room, attempt, notice).status_code == 409


def test_an_outage_of_another_student_is_not_found(world, room, client):
    attempt, _ = started_attempt(world, room, world.students_a[0])
    other, _ = started_attempt(world, room, world.students_a[1])
    notice = _outage(other, 120)
    assert _give_back(client, room, attempt, notice).status_code == 404
    assert _give_back(client, room, attempt, 999999).status_code == 404
    assert _give_back(client, room, attempt, "x").status_code == 400


def test_a_submitted_test_gets_no_offer_and_no_time(world, room, client):
    attempt, _ = started_attempt(world, room)
    notice = _outage(attempt, 120)
    attempts.attempt_submit(attempt=attempt)
    assert "data-give-back" not in _row(client, room, attempt)
    assert _give_back(client, room, attempt, notice).status_code == 409


def test_staff_who_do_not_proctor_cannot_give_time_back(world, room, client):
    attempt, _ = started_attempt(world, room)
    notice = _outage(attempt, 120)
    client.force_login(world.staff[Role.ASSESSOR])
    assert _give_back(client, room, attempt, notice).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.ATTEMPT_TIME_GIVEN_BACK).exists()


def test_a_device_switch_offers_the_gap_since_the_old_devices_last_save(world, room, client, clock):
    attempt, _ = started_attempt(world, room)
    item = Item.objects.filter(subtest=room.subtest).first()
    Response.objects.create(attempt=attempt, item=item, content="x", seq=1)
    clock.shift(datetime.timedelta(minutes=4, seconds=10))  # the old device broke

    devices.attempt_login(attempt=attempt)  # the student logs in on another device

    notice = Notice.objects.get(kind=NoticeKind.DEVICE_SWITCHED)
    assert notice.data["gap_seconds"] == 250
    row = _row(client, room, attempt)
    assert "Device switch took 4 min 10 s" in row and "Give back 5 min" in row
    assert _give_back(client, room, attempt, notice).json()["minutes"] == 5


def test_a_switch_before_the_start_costs_nothing(world, room, client, clock):
    attempts.attempt_release(actor=world.staff[Role.PROCTOR], sitting=room)
    attempt = Attempt.objects.get(sitting=room, person=world.students_a[0])
    attempt, _token, _ = devices.attempt_login(attempt=attempt)
    clock.shift(datetime.timedelta(minutes=5))
    devices.attempt_login(attempt=attempt)
    assert Notice.objects.get(kind=NoticeKind.DEVICE_SWITCHED).data["gap_seconds"] == 0
