import datetime
import json

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery import attempts, devices, save_rule, saves
from delivery.models import Response
from exams.models import Item
from tests.delivery.attempt_helpers import local_at, make_sitting, proctor, started_attempt

URL = "/api/v1/delivery/attempts/{}/saves"


@pytest.fixture
def ten_o_clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def working(world, ten_o_clock):
    sitting = make_sitting(world, duration_minutes=30)
    attempt, token = started_attempt(world, sitting)
    items = [str(i.public_id) for i in Item.objects.filter(subtest=sitting.subtest)]
    return attempt, token, items


def _post(client, attempt, token, saves):
    return client.post(
        URL.format(attempt.public_id),
        data=json.dumps({"saves": saves}),
        content_type="application/json",
        headers={"X-Device-Token": token},
    )


def _held(attempt):
    return {
        str(r.item.public_id): (r.seq, r.content, r.late)
        for r in Response.objects.filter(attempt=attempt).select_related("item")
    }


def test_save_is_acknowledged_and_stored(client, working):
    attempt, token, items = working
    response = _post(client, attempt, token, [{"item": items[0], "seq": 1, "content": ["A"]}])
    assert response.status_code == 200
    assert response.json()["acked"] == [{"item": items[0], "seq": 1}]
    assert _held(attempt)[items[0]] == (1, ["A"], False)


def test_older_sequence_never_overwrites_newer_content(client, working):
    attempt, token, items = working
    _post(client, attempt, token, [{"item": items[2], "seq": 5, "content": "sju"}])
    response = _post(client, attempt, token, [{"item": items[2], "seq": 4, "content": "sex"}])
    assert response.status_code == 200  # acknowledged: the server holds something newer
    assert _held(attempt)[items[2]] == (5, "sju", False)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_duplicated_reordered_and_dropped_saves_end_at_the_newest_sequence(working, data):
    attempt, token, items = working
    Response.objects.filter(attempt=attempt).delete()
    # Each item gets edits 1..n; the network drops, duplicates and reorders them in batches.
    edits = {
        item: data.draw(st.integers(min_value=1, max_value=8), label=f"edits {i}")
        for i, item in enumerate(items[:3])
    }
    sent = [
        save_rule.Save(item=item, seq=seq, content=f"{item[:4]}-{seq}")
        for item, n in edits.items()
        for seq in range(1, n + 1)
    ]
    delivered = data.draw(st.lists(st.sampled_from(sent), max_size=40), label="delivered")
    acked: list[dict] = []
    batch_sizes = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=40))
    position = 0
    turn = 0
    while position < len(delivered):
        size = batch_sizes[turn % len(batch_sizes)]
        turn += 1
        batch = delivered[position : position + size]
        position += size
        result = saves.responses_save(
            attempt_public_id=attempt.public_id, device_token=token, saves=batch
        )
        assert not result.refused
        acked.extend(result.acked)
    held = _held(attempt)
    for item in items[:3]:
        newest = max((s.seq for s in delivered if s.item == item), default=None)
        if newest is None:
            assert item not in held
        else:
            assert held[item][:2] == (newest, f"{item[:4]}-{newest}")
    # No acknowledged save is ever lost: the server holds it or something newer.
    for ack in acked:
        assert held[ack["item"]][0] >= ack["seq"]


def test_old_device_gets_409_device_replaced(client, working):
    attempt, token, items = working
    devices.attempt_login(attempt=attempt)
    response = _post(client, attempt, token, [{"item": items[0], "seq": 1, "content": ["A"]}])
    assert response.status_code == 409 and response.json()["error"] == "device_replaced"
    assert items[0] not in _held(attempt)


def test_submitted_attempt_accepts_no_saves(client, working):
    attempt, token, items = working
    attempts.attempt_submit(attempt=attempt)
    response = _post(client, attempt, token, [{"item": items[0], "seq": 1, "content": ["A"]}])
    assert response.status_code == 409 and response.json()["error"] == "submitted"


def test_item_of_another_subtest_is_not_stored(client, working, world):
    attempt, token, _ = working
    foreign = make_sitting(world).subtest.items.first()
    response = _post(
        client, attempt, token, [{"item": str(foreign.public_id), "seq": 1, "content": "x"}]
    )
    assert response.status_code == 409
    assert not Response.objects.filter(attempt=attempt).exists()


def test_malformed_body_is_refused(client, working):
    attempt, token, _ = working
    response = _post(client, attempt, token, [{"item": "not-a-uuid", "seq": 1}])
    assert response.status_code == 400


# --- the late-delivery rule ---------------------------------------------------------------------


def test_answer_made_before_deadline_delivered_within_grace_is_kept_and_marked_late(
    client, working, ten_o_clock, settings
):
    settings.DELIVERY_LATE_GRACE_S = 120
    attempt, token, items = working
    made_at = (attempt.deadline - datetime.timedelta(seconds=20)).isoformat()
    ten_o_clock.shift(datetime.timedelta(minutes=31))  # one minute after the deadline
    response = _post(
        client,
        attempt,
        token,
        [{"item": items[4], "seq": 3, "content": "svar", "client_saved_at": made_at}],
    )
    assert response.status_code == 200
    assert _held(attempt)[items[4]] == (3, "svar", True)


def test_answer_made_after_deadline_is_refused(client, working, ten_o_clock):
    attempt, token, items = working
    ten_o_clock.shift(datetime.timedelta(minutes=31))
    made_at = (attempt.deadline + datetime.timedelta(seconds=5)).isoformat()
    response = _post(
        client,
        attempt,
        token,
        [{"item": items[4], "seq": 3, "content": "svar", "client_saved_at": made_at}],
    )
    assert response.status_code == 409 and response.json()["error"] == "deadline_passed"


def test_answer_delivered_after_the_grace_window_is_refused(client, working, ten_o_clock, settings):
    settings.DELIVERY_LATE_GRACE_S = 120
    attempt, token, items = working
    made_at = (attempt.deadline - datetime.timedelta(seconds=20)).isoformat()
    ten_o_clock.shift(datetime.timedelta(minutes=33))
    response = _post(
        client,
        attempt,
        token,
        [{"item": items[4], "seq": 3, "content": "svar", "client_saved_at": made_at}],
    )
    assert response.status_code == 409


def test_paused_attempt_still_takes_buffered_answers(client, working, world, ten_o_clock):
    attempt, token, items = working
    attempts.attempt_pause(actor=proctor(world), attempt=attempt)
    ten_o_clock.shift(datetime.timedelta(hours=1))
    response = _post(client, attempt, token, [{"item": items[1], "seq": 1, "content": ["A"]}])
    assert response.status_code == 200
