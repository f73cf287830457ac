"""The proctor room sorts itself and tells the proctor what they need: who needs them first, the
group, where students log in, usernames for namesakes, adjustments and time left."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from delivery import attempts, student_auth
from delivery.models import Attempt
from exams.models import Adjustment, AdjustmentKind, SittingStudent, Tool
from schools.roles import Role
from tests.delivery.attempt_helpers import local_at, make_sitting, proctor, started_attempt
from tests.delivery.presence_helpers import store  # noqa: F401
from tests.factories import PersonFactory, student


@pytest.fixture
def room(world, store, client):  # noqa: F811
    with time_machine.travel(local_at(10), tick=False):
        sitting = make_sitting(world, students=world.students_a + world.students_b)
        client.force_login(world.staff[Role.PROCTOR])
        yield sitting


def _page(client, sitting) -> str:
    return client.get(reverse("proctor-room", args=[sitting.public_id])).content.decode()


def _row_order(html: str) -> list[str]:
    body = html.split('id="room-rows"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr data-attempt="([^"]+)" data-status="([^"]+)"', body)


def test_students_who_need_the_proctor_come_first_then_working_then_done(world, room, client):
    people = world.students_a + world.students_b
    _page(client, room)  # attempts are created on the first read
    by_person = {p.pk: Attempt.objects.get(sitting=room, person=p) for p in people}
    working, _ = started_attempt(world, room, people[0])
    paused, _ = started_attempt(world, room, people[1])
    attempts.attempt_pause(actor=proctor(world), attempt=paused)
    done, _ = started_attempt(world, room, people[2])
    attempts.attempt_submit(attempt=done)
    attempts.attempt_release(actor=proctor(world), sitting=room, person=people[3])  # not logged in
    attempts.attempt_mark_absent(actor=proctor(world), attempt=by_person[people[4].pk])

    statuses = [status for _attempt, status in _row_order(_page(client, room))]

    # paused, released but not logged in, the one not released yet; working; submitted, absent
    assert statuses == ["paused", "not_started", "not_started", "working", "submitted", "absent"]
    order = [a for a, _s in _row_order(_page(client, room))]
    assert order[1] == str(by_person[people[3].pk].public_id)  # released comes before unreleased
    assert order[3] == str(working.public_id)


def test_the_state_answer_keeps_the_same_order(world, room, client):
    people = world.students_a
    _page(client, room)
    done, _ = started_attempt(world, room, people[0])
    attempts.attempt_submit(attempt=done)
    state = client.get(reverse("proctor-state", args=[room.public_id])).json()
    assert state["rows"][-1]["attempt"] == str(done.public_id)
    assert [r["rank"] for r in state["rows"]] == sorted(r["rank"] for r in state["rows"])


def test_two_students_of_the_same_name_are_told_apart_by_username(world, room, client):
    twins = []
    for _ in range(2):
        person = PersonFactory(
            organiser=world.unit.organiser, given_name="Elsa", family_name="Dahl"
        )
        student_auth.credential_issue(person=person)
        SittingStudent.objects.create(sitting=room, person=person)
        twins.append(person)
    html = _page(client, room)
    for person in twins:
        username = person.credential.username
        row = html.split(f"{username}</td>", 1)[0].rsplit("<tr ", 1)[1]
        assert '<th scope="row" tabindex="-1" class="student-name">Elsa Dahl</th>' in row


def test_the_page_names_the_groups_the_login_address_and_the_login_slips(world, room, client):
    html = _page(client, room)
    assert re.search(r'id="room-groups">9A, 9B<', html)
    assert 'href="http://testserver/student/"' in html
    assert reverse("sitting-login-slips", args=[room.public_id]) in html


def test_each_row_shows_the_students_adjustments_in_words(world, room, client):
    subtest = room.subtest
    subtest.permitted_adjustments = [
        AdjustmentKind.EXTENDED_TIME,
        AdjustmentKind.READ_ALOUD,
        AdjustmentKind.SEPARATE_ROOM,
        AdjustmentKind.TOOLS,
    ]
    subtest.permitted_tools = [Tool.TEXT_TO_SPEECH]
    subtest.save()
    person = world.students_a[0]
    Adjustment.objects.create(
        school_unit=world.unit,
        person=person,
        test=subtest.test,
        extended_minutes=15,
        tools=[Tool.TEXT_TO_SPEECH],
        other_kinds=[AdjustmentKind.READ_ALOUD, AdjustmentKind.SEPARATE_ROOM],
    )
    html = _page(client, room)
    row = html.split(person.full_name, 1)[1].split("</tr>", 1)[0]
    for label in ("Extended time +15 min", "Read aloud", "Separate room", "Text to speech"):
        assert label in row
    assert "read_aloud" not in row.replace("tag--read_aloud", "")


def test_a_working_student_shows_the_time_left(world, room, client):
    attempt, _ = started_attempt(world, room, world.students_a[0])
    html = _page(client, room)
    row = html.split(f'data-attempt="{attempt.public_id}"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'<span class="remaining__value">45 min</span> left', row)


def test_end_the_sitting_is_set_apart_from_release_to_everyone(world, room, client):
    html = _page(client, room)
    top = html.split('id="sitting-actions"', 1)[1].split("</p>", 1)[0]
    assert 'data-action="release"' in top and 'data-action="end"' not in top
    end = html.split('id="end-sitting"', 1)[1].split("</section>", 1)[0]
    assert 'data-action="end"' in end
    # the list of students lies between the two
    assert (
        html.index('id="sitting-actions"')
        < html.index('id="room-rows"')
        < html.index('id="end-sitting"')
    )


def test_the_room_lists_300_students_with_details_in_a_fixed_number_of_queries(world, room, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _page(client, room)
    with CaptureQueriesContext(connection) as small:
        _page(client, room)
    for _ in range(294):
        person = student(world.unit)
        student_auth.credential_issue(person=person)
        SittingStudent.objects.create(sitting=room, person=person)
    _page(client, room)
    with CaptureQueriesContext(connection) as large:
        _page(client, room)
    assert len(large.captured_queries) <= len(small.captured_queries)


def test_a_released_student_who_has_not_logged_in_says_so(world, room, client):
    _page(client, room)
    person = world.students_a[0]
    attempts.attempt_release(actor=proctor(world), sitting=room, person=person)
    html = _page(client, room)
    row = html.split(f"{person.full_name}</th>", 1)[1].split("</tr>", 1)[0]
    assert '<span class="status">Released, not logged in</span>' in row
    other = html.split(f"{world.students_a[1].full_name}</th>", 1)[1].split("</tr>", 1)[0]
    assert '<span class="status">Not logged in</span>' in other
