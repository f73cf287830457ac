"""The proctor room page, its JSON state and its actions."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from delivery.models import Attempt, AttemptStatus, Notice, NoticeKind
from exams.day_passwords import display
from exams.models import SittingStudent
from schools.roles import Role
from tests.delivery.attempt_helpers import DAY_PASSWORD, local_at, make_sitting, started_attempt
from tests.delivery.presence_helpers import presence_of, store  # noqa: F401
from tests.factories import student


@pytest.fixture
def ten_o_clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def room(world, ten_o_clock, store, client):  # noqa: F811
    sitting = make_sitting(world)
    client.force_login(world.staff[Role.PROCTOR])
    return sitting


def action(client, sitting, name, **data):
    return client.post(reverse("proctor-action", args=[sitting.public_id, name]), data)


def test_room_lists_every_student_with_status_counts_and_the_day_password(world, room, client):
    started_attempt(world, room, person=world.students_a[0])
    response = client.get(reverse("proctor-room", args=[room.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    for person in world.students_a:
        assert person.full_name in html
    assert display(DAY_PASSWORD) in html
    rows = {r["name"]: r["status"] for r in response.context["rows"]}
    assert rows[world.students_a[0].full_name] == AttemptStatus.WORKING
    assert rows[world.students_a[1].full_name] == AttemptStatus.NOT_STARTED
    assert response.context["summary"]["counts"] == {"working": 1, "not_started": 2}
    assert not response.context["summary"]["all_submitted"]


def test_room_shows_connection_lost_since_from_the_presence_store(world, room, client, store):  # noqa: F811
    attempt, _ = started_attempt(world, room)
    p = presence_of(attempt)
    store.connect(p, conn="c", now=local_at(10).timestamp() - 60)
    store.close(p, conn="c", now=local_at(9, 59).timestamp())
    state = client.get(reverse("proctor-state", args=[room.public_id])).json()
    row = next(r for r in state["rows"] if r["attempt"] == str(attempt.public_id))
    assert row["status"] == "lost"
    assert row["lost_since"].startswith(
        local_at(9, 59).astimezone(__import__("datetime").UTC).isoformat()[:16]
    )
    html = client.get(reverse("proctor-room", args=[room.public_id])).content.decode()
    assert "09:59" in html


def test_room_shows_the_notice_history_after_a_reload(world, room, client):
    attempt, _ = started_attempt(world, room)
    Notice.objects.create(
        sitting=room,
        school_unit=world.unit,
        room=room.room,
        person=attempt.person,
        kind=NoticeKind.CONNECTION_LOST,
        data={"name": attempt.person.full_name},
    )
    html = client.get(reverse("proctor-room", args=[room.public_id])).content.decode()
    assert f"{attempt.person.full_name} lost the connection" in html


def test_everyone_submitted_is_unmistakable(world, room, client):
    from delivery import attempts

    for person in world.students_a:
        attempt, _ = started_attempt(world, room, person=person)
        attempts.attempt_submit(attempt=attempt)
    response = client.get(reverse("proctor-room", args=[room.public_id]))
    assert response.context["summary"]["all_submitted"]
    assert 'id="all-submitted" role="status" hidden' not in response.content.decode()


def test_actions_release_pause_resume_add_time_reopen_and_end(world, room, client):
    assert action(client, room, "release").json() == {"ok": True, "released": 3}
    attempt, _ = started_attempt(world, room)
    a = str(attempt.public_id)
    assert action(client, room, "pause", attempt=a).json() == {"ok": True}
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.PAUSED
    assert action(client, room, "resume", attempt=a).status_code == 200
    refused = action(client, room, "add_time", attempt=a, minutes="10", reason="")
    assert refused.status_code == 409
    assert (
        action(client, room, "add_time", attempt=a, minutes="10", reason="Fire drill").status_code
        == 200
    )
    assert Attempt.objects.get(pk=attempt.pk).added_seconds == 600
    assert action(client, room, "end").status_code == 409  # someone is still working
    from delivery import attempts

    attempts.attempt_submit(attempt=attempt)
    assert (
        action(client, room, "reopen", attempt=a, reason="Submitted by mistake").status_code == 200
    )
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.WORKING
    other = Attempt.objects.exclude(pk=attempt.pk).filter(sitting=room).first()
    assert action(client, room, "absent", attempt=str(other.public_id)).status_code == 200
    assert Attempt.objects.get(pk=other.pk).status == AttemptStatus.ABSENT
    assert action(client, room, "absent", attempt=a).status_code == 409  # already working


@pytest.mark.parametrize("who", [Role.ASSESSOR, Role.OTHER_STAFF, Role.ASSESSMENT_LEAD])
def test_room_and_actions_are_404_for_staff_who_do_not_proctor(world, room, client, who):
    client.force_login(world.staff[who])
    assert client.get(reverse("proctor-room", args=[room.public_id])).status_code == 404
    assert client.get(reverse("proctor-state", args=[room.public_id])).status_code == 404
    assert action(client, room, "release").status_code == 404
    assert not Attempt.objects.filter(released_at__isnull=False).exists()


def test_room_is_404_for_another_units_head_teacher_and_outsiders(world, room, client):
    for user in (world.sibling_head, world.outsider):
        client.force_login(user)
        assert client.get(reverse("proctor-room", args=[room.public_id])).status_code == 404
        assert action(client, room, "end").status_code == 404


def test_room_needs_a_login(room, client):
    client.logout()
    response = client.get(reverse("proctor-room", args=[room.public_id]))
    assert response.status_code == 302


def test_room_with_300_students_takes_the_same_queries_as_with_3(world, room, client):
    client.get(reverse("proctor-room", args=[room.public_id]))  # attempts created on first read
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(reverse("proctor-room", args=[room.public_id]))
    for _ in range(297):
        SittingStudent.objects.create(sitting=room, person=student(world.unit))
    client.get(reverse("proctor-room", args=[room.public_id]))
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("proctor-room", args=[room.public_id]))
    assert len(response.context["rows"]) == 300
    assert 0 < len(large.captured_queries) <= len(small.captured_queries)
    attempt_lists = [q for q in large.captured_queries if 'FROM "delivery_attempt"' in q["sql"]]
    assert len(attempt_lists) <= 3  # attempts_ensure reads twice, the list once


def test_a_device_switch_shows_in_the_history_with_the_students_name(world, room, client):
    from delivery import devices

    attempt, _ = started_attempt(world, room)
    devices.attempt_login(attempt=attempt)  # the student logs in on another device
    html = client.get(reverse("proctor-room", args=[room.public_id])).content.decode()
    assert f"{attempt.person.full_name} switched device" in html


def test_reopen_of_a_timed_out_test_takes_minutes_from_the_room(world, room, client, ten_o_clock):
    import datetime

    from delivery import closing

    attempt, _ = started_attempt(world, room)
    ten_o_clock.shift(datetime.timedelta(minutes=48))
    assert closing.attempts_auto_submit_due() == 1
    a = str(attempt.public_id)
    refused = action(client, room, "reopen", attempt=a, reason="Power cut")
    assert refused.status_code == 409 and refused.json()["code"] == "minutes_required"
    assert (
        action(client, room, "reopen", attempt=a, reason="Power cut", minutes="x").status_code
        == 400
    )
    ok = action(client, room, "reopen", attempt=a, reason="Power cut", minutes="15")
    assert ok.status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.WORKING
    assert attempt.deadline >= datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=15)
    page = client.get(reverse("proctor-room", args=[room.public_id])).content.decode()
    assert 'id="action-dialog"' in page and "window.prompt" not in page


def test_state_gives_the_notices_missed_and_students_placed_since_the_page_loaded(
    world, room, client
):
    from delivery import devices

    state_url = reverse("proctor-state", args=[room.public_id])
    attempt, _ = started_attempt(world, room)
    first = client.get(state_url).json()
    assert len(first["rows"]) == 3 and first["notices"] == []
    # while the proctor's socket is away: a device switch, and a student placed in the sitting
    devices.attempt_login(attempt=attempt)
    late = student(world.unit)
    SittingStudent.objects.create(sitting=room, person=late)
    Notice.objects.create(
        school_unit=world.sibling_unit, kind=NoticeKind.CONNECTION_LOST, data={"name": "Other"}
    )
    state = client.get(state_url).json()
    assert late.full_name in {r["name"] for r in state["rows"]}
    new_row = next(r for r in state["rows"] if r["name"] == late.full_name)
    assert new_row["label"] and new_row["actions"] == ["release", "absent"]
    switched = [n for n in state["notices"] if n["kind"] == NoticeKind.DEVICE_SWITCHED]
    assert len(switched) == 1 and switched[0]["name"] == attempt.person.full_name
    assert all(n["name"] != "Other" for n in state["notices"])
    # the page asks only for what it does not show yet
    assert client.get(state_url, {"after": switched[0]["id"]}).json()["notices"] == []
    html = client.get(reverse("proctor-room", args=[room.public_id])).content.decode()
    assert f'data-notice="{switched[0]["id"]}"' in html and 'id="row-template"' in html
