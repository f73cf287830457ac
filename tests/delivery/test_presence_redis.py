"""Presence against a real Redis: a Redis that goes away and comes back, with no restart.

Starts its own redis-server on 127.0.0.1:18601 and stops it by its process id.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import time_machine
from asgiref.sync import async_to_sync

from delivery.models import Attempt, AttemptStatus, NoticeKind
from delivery.presence import PresenceStore, PresenceUnavailable, RedisBackend, set_store
from delivery.sweeper import sweep_once
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt
from tests.delivery.presence_helpers import presence_of, store  # noqa: F401

PORT = 18601


def _start_redis() -> subprocess.Popen:
    process = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.1).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


def _stop(process: subprocess.Popen) -> None:
    process.kill()
    process.wait(timeout=5)


@pytest.fixture
def own_redis(store, world):  # noqa: F811
    process = _start_redis()
    backend = RedisBackend(f"redis://127.0.0.1:{PORT}/0")
    backend.BREAK_S = 0  # retry at once in the test; one second in service
    redis_store = PresenceStore(backend, f"test-{time.time_ns()}")
    set_store(redis_store)
    holder = {"process": process}
    yield redis_store, holder
    if holder["process"].poll() is None:
        _stop(holder["process"])


def test_redis_outage_degrades_notices_and_recovers_without_restart(world, own_redis):
    redis_store, holder = own_redis
    with time_machine.travel(local_at(10), tick=False):
        sitting = make_sitting(world)
        attempt, _ = started_attempt(world, sitting)
    p = presence_of(attempt)
    t0 = local_at(10).timestamp()
    redis_store.connect(p, conn="c", now=t0)
    assert redis_store.heartbeat(p, now=t0 + 3) is None

    # when Redis goes away
    _stop(holder["process"])
    with pytest.raises(PresenceUnavailable):
        redis_store.heartbeat(p, now=t0 + 6)
    # the sweeper degrades but still submits what is due
    with time_machine.travel(attempt.deadline.timestamp() + 3600, tick=False):
        result = sweep_once()
    assert result["presence"] == "unavailable"
    assert result["auto_submitted"] == 1
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.SUBMITTED

    # when Redis returns (empty), the same store works again
    holder["process"] = _start_redis()
    with time_machine.travel(local_at(11), tick=False):
        sitting2 = make_sitting(world, students=world.students_b)
        attempt2, _ = started_attempt(world, sitting2)
    p2 = presence_of(attempt2)
    redis_store.connect(p2, conn="c2", now=t0 + 60)
    assert redis_store.heartbeat(p2, now=t0 + 63) is None
    result = sweep_once(local_at(10, 1).replace(second=10))  # t0 + 70: p2 silent for 7 s
    assert result["presence"] == "ok"
    assert result["silent"] == 1
    assert sitting2.notices.get().kind == NoticeKind.CONNECTION_LOST


def test_a_student_socket_keeps_working_while_redis_is_down(world, own_redis, transactional_db):
    from channels.testing import WebsocketCommunicator

    from provplattform.asgi import application
    from tests.delivery.test_consumers import ORIGIN, student_cookie

    _redis_store, holder = own_redis
    with time_machine.travel(local_at(10), tick=True):
        sitting = make_sitting(world)
        attempt, token = started_attempt(world, sitting)
    cookie = student_cookie(attempt, token)
    _stop(holder["process"])

    async def scenario():
        ws = WebsocketCommunicator(
            application,
            f"/ws/attempt/{attempt.public_id}/",
            headers=[ORIGIN, (b"cookie", cookie)],
        )
        assert (await ws.connect())[0]
        assert (await ws.receive_json_from())["type"] == "hello"
        await ws.send_json_to({"type": "hb"})
        assert await ws.receive_json_from() == {"type": "hb"}
        await ws.disconnect()

    async_to_sync(scenario)()
