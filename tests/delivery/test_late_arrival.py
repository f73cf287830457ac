"""A student the proctor marked absent who turns up after all: waiting again, with a notice."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from delivery import attempts, closing, devices, events
from delivery.models import Attempt, AttemptStatus, Notice, NoticeKind
from provplattform.models import AuditEvent
from tests.delivery.attempt_helpers import local_at, make_sitting, proctor


@pytest.fixture
def ten_o_clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def absent(world, ten_o_clock):
    """A sitting where the first student has been marked absent before logging in."""
    sitting = make_sitting(world)
    attempts.attempts_ensure(sitting=sitting)
    attempt = Attempt.objects.get(sitting=sitting, person=world.students_a[0])
    return attempts.attempt_mark_absent(actor=proctor(world), attempt=attempt)


def test_absent_student_who_logs_in_waits_and_the_proctor_is_told(world, absent, monkeypatch):
    sent = []
    monkeypatch.setattr(events, "send_on_commit", lambda group, event: sent.append((group, event)))
    # when the student arrives and logs in
    attempt, _, _ = devices.attempt_login(sitting=absent.sitting, person=absent.person)
    # then
    assert attempt.status == AttemptStatus.WAITING
    notice = Notice.objects.get(kind=NoticeKind.ARRIVED_AFTER_ABSENT)
    assert notice.person == absent.person and notice.sitting == absent.sitting
    group = f"sitting.{absent.sitting.public_id}"
    pushed = [e for g, e in sent if g == group and e["type"] == "notice"]
    assert pushed and pushed[0]["kind"] == "arrived_late"
    assert pushed[0]["name"] == absent.person.full_name
    changed = [e for g, e in sent if g == group and e["type"] == "attempt.changed"]
    assert changed[-1]["status"] == "waiting" and changed[-1]["released"] is False


def test_the_arrival_is_audited(world, absent):
    devices.attempt_login(sitting=absent.sitting, person=absent.person)
    event = AuditEvent.objects.get(action="attempt.arrived_after_absent")
    assert event.before["status"] == "absent"
    assert event.after["status"] == "waiting"


def test_release_to_everyone_includes_the_late_arrival(world, absent):
    devices.attempt_login(sitting=absent.sitting, person=absent.person)
    released = attempts.attempt_release(actor=proctor(world), sitting=absent.sitting)
    assert released == 3
    assert Attempt.objects.get(pk=absent.pk).released_at is not None


def test_absent_student_who_has_not_logged_in_is_still_skipped_by_release_all(world, absent):
    released = attempts.attempt_release(actor=proctor(world), sitting=absent.sitting)
    assert released == 2
    assert Attempt.objects.get(pk=absent.pk).status == AttemptStatus.ABSENT


def test_an_ordinary_login_gives_no_late_arrival_notice(world, ten_o_clock):
    sitting = make_sitting(world)
    devices.attempt_login(sitting=sitting, person=world.students_a[1])
    assert not Notice.objects.filter(kind=NoticeKind.ARRIVED_AFTER_ABSENT).exists()
    assert not AuditEvent.objects.filter(action="attempt.arrived_after_absent").exists()


def test_after_the_sitting_ended_an_absent_student_stays_absent(world, absent):
    closing.sitting_end(actor=proctor(world), sitting=absent.sitting)
    attempt, _, _ = devices.attempt_login(attempt=absent)
    assert attempt.status == AttemptStatus.ABSENT
    assert not Notice.objects.filter(kind=NoticeKind.ARRIVED_AFTER_ABSENT).exists()


def test_the_proctor_room_shows_the_arrival_and_it_staff_do_not_get_it(world, absent, client):
    devices.attempt_login(sitting=absent.sitting, person=absent.person)
    client.force_login(proctor(world))
    html = client.get(reverse("proctor-room", args=[absent.sitting.public_id])).content.decode()
    assert f"{absent.person.full_name} arrived after being marked absent" in html
    from delivery.notices import notices_for_it

    assert all(
        n.kind != NoticeKind.ARRIVED_AFTER_ABSENT for n in notices_for_it(school_unit=world.unit)
    )
