"""The proctor room offers only the actions that apply to each student's status; the server
refuses the others whatever the page shows."""

from __future__ import annotations

import json
import re

import pytest
import time_machine
from django.urls import reverse

from delivery import attempts, closing, devices, events
from delivery.models import Attempt, AttemptStatus
from tests.delivery.attempt_helpers import local_at, make_sitting, proctor, started_attempt
from tests.delivery.presence_helpers import store  # noqa: F401
from tests.factories import student

ALL = ("release", "absent", "pause", "resume", "add_time", "reopen", "submit", "unlock")


@pytest.fixture
def ten_o_clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def room(world, ten_o_clock, store, client):  # noqa: F811
    sitting = make_sitting(world, students=[student(world.unit) for _ in range(7)])
    client.force_login(proctor(world))
    return sitting


def attempt_in(world, sitting, status: str, index: int) -> Attempt:
    """Put the index-th student of the sitting in `status` the way it happens on the day."""
    person = list(sitting.placements.order_by("pk"))[index].person
    attempts.attempts_ensure(sitting=sitting)
    attempt = Attempt.objects.get(sitting=sitting, person=person)
    actor = proctor(world)
    if status == "not_started":
        return attempt
    if status == "waiting":
        return devices.attempt_login(attempt=attempt)[0]
    if status == "released":
        devices.attempt_login(attempt=attempt)
        attempts.attempt_release(actor=actor, sitting=sitting, person=person)
        return Attempt.objects.get(pk=attempt.pk)
    if status == "absent":
        return attempts.attempt_mark_absent(actor=actor, attempt=attempt)
    if status == "exempt":
        Attempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.EXEMPT)
        return Attempt.objects.get(pk=attempt.pk)
    attempt, _ = started_attempt(world, sitting, person=person)
    if status == "paused":
        return attempts.attempt_pause(actor=actor, attempt=attempt)
    if status == "submitted":
        return attempts.attempt_submit(attempt=attempt)
    return attempt


def visible_buttons(html: str, attempt: Attempt) -> set[str]:
    row = re.search(rf'<tr data-attempt="{attempt.public_id}".*?</tr>', html, re.S).group(0)
    return {
        m.group(1)
        for m in re.finditer(r'<button[^>]*data-action="(\w+)"([^>]*)>', row)
        if "hidden" not in m.group(2)
    }


EXPECTED = {
    "not_started": {"release", "absent"},
    "waiting": {"release", "absent"},
    "released": {"absent"},
    "working": {"pause", "add_time", "submit"},
    "paused": {"resume", "add_time", "submit"},
    "submitted": {"reopen"},
    "absent": {"release"},
}


def test_each_row_shows_only_the_actions_for_its_status(world, room, client):
    # given one student in each status
    attempts = {status: attempt_in(world, room, status, i) for i, status in enumerate(EXPECTED)}
    # when
    html = client.get(reverse("proctor-room", args=[room.public_id])).content.decode()
    # then
    for status, expected in EXPECTED.items():
        assert visible_buttons(html, attempts[status]) == expected, status
    # every button is still in the page, so the live page can show it when the status changes
    row = re.search(rf'<tr data-attempt="{attempts["working"].public_id}".*?</tr>', html, re.S)
    assert set(re.findall(r'data-action="(\w+)"', row.group(0))) == set(ALL)
    assert 'id="proctor-row-actions"' in html


def test_an_exempt_student_has_no_actions(world, room, client):
    exempt = attempt_in(world, room, "exempt", 0)
    html = client.get(reverse("proctor-room", args=[room.public_id])).content.decode()
    assert visible_buttons(html, exempt) == set()


def test_after_the_sitting_ends_no_row_offers_an_action(world, room, client):
    submitted = attempt_in(world, room, "submitted", 0)
    closing.sitting_end(actor=proctor(world), sitting=room)
    html = client.get(reverse("proctor-room", args=[room.public_id])).content.decode()
    assert visible_buttons(html, submitted) == set()
    assert 'id="sitting-actions" hidden' in html


def test_state_and_live_events_carry_the_release_flag_the_page_needs(world, room, client):
    waiting = attempt_in(world, room, "waiting", 0)
    released = attempt_in(world, room, "released", 1)
    state = client.get(reverse("proctor-state", args=[room.public_id])).json()
    flags = {r["attempt"]: r["released"] for r in state["rows"]}
    assert flags[str(waiting.public_id)] is False
    assert flags[str(released.public_id)] is True
    assert events.attempt_event(released)["released"] is True


@pytest.mark.parametrize("status", [*EXPECTED, "exempt"])
def test_the_server_refuses_every_action_the_room_does_not_offer(world, room, client, status):
    attempt = attempt_in(world, room, status, 0)
    offered = EXPECTED.get(status, set())
    not_offered = set(ALL) - offered
    if status in ("not_started", "waiting", "released"):
        # Adding time before the start is accepted by the service, only not offered (ROW_ACTIONS).
        not_offered.discard("add_time")
    before = Attempt.objects.get(pk=attempt.pk)
    for name in sorted(not_offered):
        response = client.post(
            reverse("proctor-action", args=[room.public_id, name]),
            {"attempt": str(attempt.public_id), "minutes": "5", "reason": "Test"},
        )
        assert response.status_code == 409, (status, name)
        assert response.json()["error"]
    after = Attempt.objects.get(pk=attempt.pk)
    assert (after.status, after.released_at, after.deadline) == (
        before.status,
        before.released_at,
        before.deadline,
    )


def test_releasing_a_student_twice_is_refused(world, room, client):
    released = attempt_in(world, room, "released", 0)
    response = client.post(
        reverse("proctor-action", args=[room.public_id, "release"]),
        {"attempt": str(released.public_id)},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "not_releasable"


def test_the_room_script_reads_the_action_table_and_the_release_flag():
    """proctor.js keeps the buttons right as statuses change live (the browser test runs it)."""
    from django.contrib.staticfiles import finders

    with open(finders.find("js/proctor.js"), encoding="utf-8") as script:
        source = script.read()
    assert "proctor-row-actions" in source
    assert "data.released" in source


def test_the_room_page_gives_its_script_the_servers_status_sets(room, client):
    """proctor.js keeps no copy of which statuses are open, finished or on the clock."""
    html = client.get(reverse("proctor-room", args=[room.public_id])).content.decode()
    found = re.search(
        r'<script id="proctor-status-sets" type="application/json">(.*?)</script>', html
    )
    assert found is not None
    assert json.loads(found.group(1)) == {
        "open": sorted(AttemptStatus.LOGGED_IN),
        "quiet": sorted(AttemptStatus.FINISHED),
        "timed": sorted(AttemptStatus.OPEN),
    }
