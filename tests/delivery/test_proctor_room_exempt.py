"""Exempt students in the proctor room: exempted through the real exemption service."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from delivery import attempts, closing, devices
from delivery.models import Attempt, AttemptStatus
from exams.models import Sitting, SittingProctor, SittingStudent
from exams.preparation.assignments import assignments_sync_mandatory
from exams.preparation.decisions import exemption_create
from schools.roles import Role
from schools.services import role_assign
from tests.delivery.attempt_helpers import local_at
from tests.delivery.presence_helpers import store  # noqa: F401
from tests.exams.helpers import norwegian_subtest
from tests.factories import RoomFactory, staff_member, student


@pytest.fixture
def norway(world, store):  # noqa: F811
    unit = world.other_org_unit
    head = staff_member(unit, duty_role="Rektor")
    role_assign(actor=None, person=head.person, school_unit=unit, role=Role.HEAD_TEACHER)
    proctor = staff_member(unit)
    role_assign(actor=None, person=proctor.person, school_unit=unit, role=Role.PROCTOR)
    pupils = [student(unit, school_year=9) for _ in range(3)]
    subtest = norwegian_subtest()
    assignments_sync_mandatory(school_unit=unit)
    with time_machine.travel(local_at(10), tick=False):
        sittings = [
            Sitting.objects.create(
                school_unit=unit,
                subtest=subtest,
                room=RoomFactory(school_unit=unit, name=name),
                starts_at=local_at(9),
            )
            for name in ("Rom A", "Rom B")
        ]
    for sitting in sittings:
        SittingProctor.objects.create(sitting=sitting, person=proctor.person)
    SittingStudent.objects.create(sitting=sittings[0], person=pupils[0])
    SittingStudent.objects.create(sitting=sittings[0], person=pupils[1])
    SittingStudent.objects.create(sitting=sittings[1], person=pupils[2])
    return unit, head, proctor, pupils, subtest, sittings


def _exempt(unit, head, person, subtest):
    return exemption_create(
        actor=head,
        school_unit=unit,
        person=person,
        test=subtest.test,
        ground="special_education",
        decision_reference="2027/114",
        attested_no_significance=True,
        decided_by=head.person,
    )


def _room(client, sitting):
    return client.get(reverse("proctor-room", args=[sitting.public_id])).context


def test_exempt_students_show_in_their_room_as_exempt_and_are_never_absent(norway, client):
    unit, head, proctor, pupils, subtest, (room_a, room_b) = norway
    client.force_login(proctor)
    with time_machine.travel(local_at(10), tick=False):
        # the rooms were open before: each placed pupil has an attempt in their room
        _room(client, room_a)
        _room(client, room_b)
        _exempt(unit, head, pupils[0], subtest)  # withdraws the placement, not the attempt
        _exempt(unit, head, pupils[2], subtest)  # exempt in room B
        never_placed = student(unit, school_year=9)
        _exempt(unit, head, never_placed, subtest)  # shows in the unit's first room
        # when
        a = _room(client, room_a)
        b = _room(client, room_b)
    # then each exempt student shows once, in the room they belonged to, with no actions
    rows_a = {r["name"]: r for r in a["rows"]}
    assert rows_a[pupils[0].full_name]["status"] == AttemptStatus.EXEMPT
    assert rows_a[pupils[0].full_name]["actions"] == ()
    assert rows_a[pupils[1].full_name]["status"] == AttemptStatus.NOT_STARTED
    assert rows_a[never_placed.full_name]["status"] == AttemptStatus.EXEMPT
    assert a["summary"]["counts"] == {"exempt": 2, "not_started": 1}
    assert pupils[2].full_name not in rows_a
    rows_b = {r["name"]: r["status"] for r in b["rows"]}
    assert rows_b == {pupils[2].full_name: AttemptStatus.EXEMPT}
    state = client.get(reverse("proctor-state", args=[room_a.public_id])).json()
    assert state["counts"] == {"exempt": 2, "not_started": 1}


def test_exempt_students_are_left_out_of_release_end_and_everyone_has_submitted(norway, client):
    unit, head, proctor, pupils, subtest, (room_a, _room_b) = norway
    client.force_login(proctor)
    with time_machine.travel(local_at(10), tick=False):
        _room(client, room_a)
        _exempt(unit, head, pupils[0], subtest)
        assert attempts.attempt_release(actor=proctor, sitting=room_a) == 1
        attempt = Attempt.objects.get(sitting=room_a, person=pupils[1])
        attempt, _ = devices.attempt_login(attempt=attempt)[:2]
        attempt = attempts.attempt_start(attempt=attempt)
        assert not _room(client, room_a)["summary"]["all_submitted"]  # one is still working
        attempts.attempt_submit(attempt=attempt)
        assert _room(client, room_a)["summary"]["all_submitted"]
        closing.sitting_end(actor=proctor, sitting=room_a)
    orphan = Attempt.objects.get(sitting=room_a, person=pupils[0])
    assert orphan.status != AttemptStatus.ABSENT and orphan.released_at is None


def test_an_exempt_student_cannot_be_marked_absent_even_by_a_direct_post(norway, client):
    unit, head, proctor, pupils, subtest, (room_a, _room_b) = norway
    client.force_login(proctor)
    with time_machine.travel(local_at(10), tick=False):
        _room(client, room_a)
        _exempt(unit, head, pupils[0], subtest)
        orphan = Attempt.objects.get(sitting=room_a, person=pupils[0])
        url = reverse("proctor-action", args=[room_a.public_id, "absent"])
        refused = client.post(url, {"attempt": str(orphan.public_id)})
        placed = Attempt.objects.get(sitting=room_a, person=pupils[1])
        allowed = client.post(url, {"attempt": str(placed.public_id)})
    assert refused.status_code == 409 and allowed.status_code == 200
    assert Attempt.objects.get(pk=orphan.pk).status == AttemptStatus.NOT_STARTED
    assert Attempt.objects.get(pk=placed.pk).status == AttemptStatus.ABSENT


def test_a_room_with_only_exempt_students_is_not_everyone_submitted(norway, client):
    unit, head, proctor, pupils, subtest, (_room_a, room_b) = norway
    client.force_login(proctor)
    with time_machine.travel(local_at(10), tick=False):
        _room(client, room_b)
        _exempt(unit, head, pupils[2], subtest)
        context = _room(client, room_b)
    assert context["summary"]["counts"] == {"exempt": 1}
    assert not context["summary"]["all_submitted"]
