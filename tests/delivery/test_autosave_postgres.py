"""The PostgreSQL save path (the ASGI route in front of Django), against a real database."""

import asyncio
import datetime
import json
import uuid

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from delivery import attempts, devices, save_api
from delivery.models import Attempt, AttemptStatus, Response
from exams.models import Item
from tests.delivery.attempt_helpers import make_sitting

pytestmark = [
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="the fast path exists on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


async def _unused_django(scope, receive, send):  # pragma: no cover - must not be reached
    raise AssertionError("the save path must not reach Django")


def _working(world, *, deadline_in=datetime.timedelta(minutes=30)):
    sitting = make_sitting(world)
    now = timezone.now()
    public_id = uuid.uuid4()
    attempt = Attempt.objects.create(
        public_id=public_id,
        sitting=sitting,
        person=world.students_a[0],
        status=AttemptStatus.WORKING,
        started_at=now,
        duration_seconds=1800,
        deadline=now + deadline_in,
        device_token=devices.new_device_token(attempt_public_id=public_id),
    )
    items = [str(i.public_id) for i in Item.objects.filter(subtest=sitting.subtest)]
    return attempt, items


def _run(calls):
    async def go():
        app = save_api.with_save_route(_unused_django)
        transport = httpx.ASGITransport(app=app)
        results = []
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for attempt, token, saves in calls:
                r = await c.post(
                    f"/api/v1/delivery/attempts/{attempt.public_id}/saves",
                    content=json.dumps({"saves": saves}),
                    headers={"X-Device-Token": token, "Content-Type": "application/json"},
                )
                results.append((r.status_code, r.json()))
        await save_api.pools_close()
        return results

    return asyncio.run(go())


def test_fast_path_applies_only_newer_sequences_and_acknowledges(world):
    attempt, items = _working(world)
    token = attempt.device_token
    results = _run(
        [
            (attempt, token, [{"item": items[0], "seq": 2, "content": ["B"]}]),
            (attempt, token, [{"item": items[0], "seq": 1, "content": ["A"]}]),
            (attempt, token, [{"item": items[4], "seq": 1, "content": "text"}]),
        ]
    )
    assert [status for status, _ in results] == [200, 200, 200]
    assert results[1][1]["acked"] == [{"item": items[0], "seq": 1}]
    held = {str(r.item.public_id): (r.seq, r.content) for r in Response.objects.all()}
    assert held == {items[0]: (2, ["B"]), items[4]: (1, "text")}


def test_fast_path_refuses_old_device_and_submitted_attempt(world):
    attempt, items = _working(world)
    old = attempt.device_token
    attempt, new, _ = devices.attempt_login(attempt=attempt)
    save = [{"item": items[0], "seq": 1, "content": ["A"]}]
    ((replaced, body),) = _run([(attempt, old, save)])
    assert replaced == 409 and body["error"] == "device_replaced"
    attempts.attempt_submit(attempt=attempt)
    ((submitted, body),) = _run([(attempt, new, save)])
    assert submitted == 409 and body["error"] == "submitted"
    assert not Response.objects.exists()


def test_fast_path_late_rule(world):
    attempt, items = _working(world, deadline_in=datetime.timedelta(seconds=-30))
    token = attempt.device_token
    before = (attempt.deadline - datetime.timedelta(seconds=5)).isoformat()
    after = (attempt.deadline + datetime.timedelta(seconds=5)).isoformat()
    results = _run(
        [
            (
                attempt,
                token,
                [{"item": items[1], "seq": 1, "content": ["A"], "client_saved_at": before}],
            ),
            (
                attempt,
                token,
                [{"item": items[2], "seq": 1, "content": "x", "client_saved_at": after}],
            ),
        ]
    )
    assert results[0][0] == 200 and results[1][0] == 409
    assert results[1][1]["error"] == "deadline_passed"
    assert Response.objects.get().late is True
