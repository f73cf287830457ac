"""The two save paths answer by one rule: one table of cases through the ORM path (the Django
view) and the PostgreSQL path (the ASGI route in front of Django), same answers, same storage.

The case that made them differ: after a device switch the old device sends a save whose
sequence is not above the stored one; the ASGI route acknowledged it (a false "Saved") although
the server held the new device's text.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import uuid
from dataclasses import dataclass, field

import httpx
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from delivery import devices, save_api
from delivery.models import Attempt, AttemptStatus, Response
from exams.models import Item
from tests.delivery.attempt_helpers import make_sitting

pytestmark = pytest.mark.django_db(transaction=True)

PATHS = [
    "orm",
    pytest.param(
        "asgi",
        marks=pytest.mark.skipif(
            not settings.USING_POSTGRES, reason="the ASGI route exists on PostgreSQL"
        ),
    ),
]


@dataclass
class State:
    attempt: Attempt
    items: list[str]
    device: str  # the token the request sends
    held: dict[str, tuple[int, object]] = field(default_factory=dict)


def _state(
    world, *, status=AttemptStatus.WORKING, deadline_in=30 * 60, with_device: bool = True
) -> State:
    """An attempt bound to a device: the request sends the token issued to it, as a real device
    does (`with_device=False`: no device yet, and the request sends no token)."""
    sitting = make_sitting(world)
    now = timezone.now()
    started = status in AttemptStatus.OPEN | {AttemptStatus.SUBMITTED}
    public_id = uuid.uuid4()
    token = devices.new_device_token(attempt_public_id=public_id) if with_device else ""
    attempt = Attempt.objects.create(
        public_id=public_id,
        sitting=sitting,
        person=world.students_a[0],
        status=status,
        # deadline = started_at + duration, as the ORM path computes it from the clock
        started_at=now + datetime.timedelta(seconds=deadline_in - 1800) if started else None,
        duration_seconds=1800,
        deadline=now + datetime.timedelta(seconds=deadline_in) if started else None,
        paused_at=now if status == AttemptStatus.PAUSED else None,
        device_token=token,
    )
    items = [str(i.public_id) for i in Item.objects.filter(subtest=sitting.subtest)]
    return State(attempt=attempt, items=items, device=attempt.device_token)


def _hold(state: State, item: int, seq: int, content) -> None:
    """The server already holds this answer (sent by the attempt's current device)."""
    Response.objects.create(
        attempt=state.attempt,
        item=Item.objects.get(public_id=state.items[item]),
        seq=seq,
        content=content,
        server_saved_at=timezone.now(),
    )


def _switch_device(state: State) -> None:
    """The student continues on another device; the request comes from the old one."""
    old = state.device
    devices.attempt_login(attempt=state.attempt)
    state.device = old


def _token_never_issued(world) -> State:
    """A well-formed token that was never this attempt's (a guess, or a copy with a made-up
    proof): it learns nothing, the same answer as a random attempt id."""
    state = _state(world)
    nonce, _sep, _proof = state.device.partition(".")
    state.device = f"{nonce}.{'0' * 32}"
    return state


def _token_of_another_attempt(world) -> State:
    """A real token, issued for another student's attempt, sent to this one."""
    state = _state(world)
    other = Attempt.objects.create(
        sitting=state.attempt.sitting,
        person=world.students_a[1],
        status=AttemptStatus.WORKING,
    )
    _attempt, state.device, _replaced = devices.attempt_login(attempt=other)
    return state


def _save(state: State, item: int, seq: int, content="old device", client_offset: int | None = 0):
    save = {"item": state.items[item], "seq": seq, "content": content}
    if client_offset is not None:
        at = timezone.now() + datetime.timedelta(seconds=client_offset)
        save["client_saved_at"] = at.isoformat()
    return save


# (case, setup, saves, expected status, expected error, acknowledged (item, seq), stored after)
def _cases():
    def working(world):
        return _state(world)

    def switched_holding(world):
        state = _state(world)
        _hold(state, 0, 5, "new device text")
        _switch_device(state)
        return state

    def holding(world):
        state = _state(world)
        _hold(state, 0, 5, "newer text")
        return state

    def submitted_holding(world):
        state = _state(world, status=AttemptStatus.SUBMITTED)
        _hold(state, 0, 5, "submitted text")
        return state

    def past_deadline_holding(world):
        state = _state(world, deadline_in=-30)
        _hold(state, 0, 5, "newer text")
        return state

    return [
        (
            "a new save is stored",
            working,
            lambda s: [_save(s, 0, 1, "a")],
            200,
            None,
            [(0, 1)],
            {0: (1, "a")},
        ),
        (
            "a save the server holds newer is acknowledged",
            holding,
            lambda s: [_save(s, 0, 3, "older")],
            200,
            None,
            [(0, 3)],
            {0: (5, "newer text")},
        ),
        (
            "a token never issued for the attempt",
            _token_never_issued,
            lambda s: [_save(s, 0, 1, "a")],
            404,
            "not_found",
            [],
            {},
        ),
        (
            "a token issued for another attempt",
            _token_of_another_attempt,
            lambda s: [_save(s, 0, 1, "a")],
            404,
            "not_found",
            [],
            {},
        ),
        (
            "no token, the attempt has no device yet",
            lambda w: _state(w, status=AttemptStatus.WAITING, with_device=False),
            lambda s: [_save(s, 0, 1)],
            404,
            "not_found",
            [],
            {},
        ),
        (
            "an empty batch",
            working,
            lambda s: [],
            200,
            None,
            [],
            {},
        ),
        (
            "an empty batch with a token never issued for the attempt",
            _token_never_issued,
            lambda s: [],
            404,
            "not_found",
            [],
            {},
        ),
        (
            "an empty batch from the old device",
            switched_holding,
            lambda s: [],
            409,
            "device_replaced",
            [],
            {0: (5, "new device text")},
        ),
        (
            "old device, sequence not above the stored one",
            switched_holding,
            lambda s: [_save(s, 0, 5, "stale"), _save(s, 0, 4)],
            409,
            "device_replaced",
            [],
            {0: (5, "new device text")},
        ),
        (
            "old device, sequence above the stored one",
            switched_holding,
            lambda s: [_save(s, 0, 9, "stale")],
            409,
            "device_replaced",
            [],
            {0: (5, "new device text")},
        ),
        (
            "old device, an item the server does not hold",
            switched_holding,
            lambda s: [_save(s, 1, 1, "stale")],
            409,
            "device_replaced",
            [],
            {0: (5, "new device text")},
        ),
        (
            "submitted, sequence not above the stored one",
            submitted_holding,
            lambda s: [_save(s, 0, 2, "late")],
            409,
            "submitted",
            [],
            {0: (5, "submitted text")},
        ),
        (
            "not started",
            lambda w: _state(w, status=AttemptStatus.WAITING),
            lambda s: [_save(s, 0, 1)],
            409,
            "not_started",
            [],
            {},
        ),
        (
            "an item of another subtest beside a good one",
            working,
            lambda s: [_save(s, 0, 1, "a"), {"item": str(uuid.uuid4()), "seq": 1, "content": "x"}],
            409,
            "unknown_item",
            [(0, 1)],
            {0: (1, "a")},
        ),
        (
            "after the deadline, made after it",
            lambda w: _state(w, deadline_in=-30),
            lambda s: [_save(s, 0, 1, "too late")],
            409,
            "deadline_passed",
            [],
            {},
        ),
        (
            "after the deadline, made after it, the server holding newer",
            past_deadline_holding,
            lambda s: [_save(s, 0, 2, "too late")],
            409,
            "deadline_passed",
            [],
            {0: (5, "newer text")},
        ),
        (
            "after the deadline, made before it, inside the grace",
            lambda w: _state(w, deadline_in=-30),
            lambda s: [_save(s, 0, 1, "in time", client_offset=-60)],
            200,
            None,
            [(0, 1)],
            {0: (1, "in time")},
        ),
        (
            "after the deadline without a client time",
            lambda w: _state(w, deadline_in=-30),
            lambda s: [_save(s, 0, 1, "x", client_offset=None)],
            409,
            "deadline_passed",
            [],
            {},
        ),
        (
            "paused after the deadline",
            lambda w: _state(w, status=AttemptStatus.PAUSED, deadline_in=-30),
            lambda s: [_save(s, 0, 1, "typed before")],
            200,
            None,
            [(0, 1)],
            {0: (1, "typed before")},
        ),
        (
            "too late and unknown item together: deadline first",
            lambda w: _state(w, deadline_in=-30),
            lambda s: [_save(s, 0, 1), {"item": str(uuid.uuid4()), "seq": 1, "content": "x"}],
            409,
            "deadline_passed",
            [],
            {},
        ),
    ]


CASES = _cases()


def _post_orm(state: State, saves: list[dict]) -> tuple[int, dict]:
    response = Client().post(
        f"/api/v1/delivery/attempts/{state.attempt.public_id}/saves",
        data=json.dumps({"saves": saves}),
        content_type="application/json",
        HTTP_X_DEVICE_TOKEN=state.device,
    )
    return response.status_code, response.json()


async def _unused_django(scope, receive, send):  # pragma: no cover - must not be reached
    raise AssertionError("the save route must not reach Django")


def _post_asgi(state: State, saves: list[dict]) -> tuple[int, dict]:
    async def go():
        app = save_api.with_save_route(_unused_django)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                r = await c.post(
                    f"/api/v1/delivery/attempts/{state.attempt.public_id}/saves",
                    content=json.dumps({"saves": saves}),
                    headers={"X-Device-Token": state.device, "Content-Type": "application/json"},
                )
        finally:
            await save_api.pools_close()
        return r.status_code, r.json()

    return asyncio.run(go())


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_both_save_paths_give_the_same_answer(world, path, case):
    _name, setup, saves_of, status, error, acked, stored = case
    state = setup(world)
    saves = saves_of(state)
    post = _post_orm if path == "orm" else _post_asgi
    got_status, body = post(state, saves)
    assert (got_status, body.get("error")) == (status, error), body
    assert body["acked"] == [{"item": state.items[i], "seq": seq} for i, seq in acked]
    held = {
        state.items.index(str(r.item.public_id)): (r.seq, r.content)
        for r in Response.objects.filter(attempt=state.attempt).select_related("item")
    }
    assert held == stored


def test_not_found_on_both_paths(world):
    state = _state(world)
    state.attempt.public_id = uuid.uuid4()  # never saved: no such attempt
    saves = [_save(state, 0, 1)]
    answers = [_post_orm(state, saves)]
    if settings.USING_POSTGRES:
        answers.append(_post_asgi(state, saves))
    for status, body in answers:
        assert (status, body["error"], body["acked"]) == (404, "not_found", [])
