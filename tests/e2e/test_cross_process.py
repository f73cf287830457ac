"""The student and the proctor on different server processes.

Two `manage.py serve` processes (uvicorn) on the run's database and the run's Redis, with one
channel-layer prefix between them (channels_redis): the student's socket is on process A, the
proctor's on process B. Closing the student's socket on A must reach the proctor on B as
"connection lost" — nothing in process memory can carry it there. Needs REDIS_URL (CI sets it,
with DATABASE_URL); the embedded default has only the in-process layer, so it is skipped there.
"""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
from websockets.sync.client import connect as ws_connect

from tests.e2e.harness import (
    ServerProcess,
    cookie_header,
    run_env,
    staff_client,
    student_login,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="delivery across processes needs REDIS_URL (channels_redis)",
)


def _ws(base_url: str, path: str, client) -> tuple[str, dict]:
    return (
        base_url.replace("http://", "ws://") + path,
        {"Cookie": cookie_header(client), "Origin": base_url},
    )


def _notice(socket, kind: str, attempt: str, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = json.loads(socket.recv(timeout=max(0.05, deadline - time.monotonic())))
        except TimeoutError:
            return None
        if (
            message.get("type") == "notice"
            and message.get("kind") == kind
            and message.get("attempt") == attempt
        ):
            return message
    return None


def test_closing_the_students_socket_on_one_process_reaches_the_proctor_on_another(e2e):
    data = e2e.data
    sitting = data["sittings"]["faults"]
    student = sitting["students"][7]
    # one channel-layer and presence prefix for both processes, as in a deployment
    env = run_env(e2e.db.url, redis_url=e2e.redis_url, run_id=f"pp-x-{uuid.uuid4().hex[:8]}")
    a = ServerProcess(env=env, name="cross-a").start()
    b = None
    try:
        b = ServerProcess(env=env, name="cross-b").start()  # picks a port A does not hold
        assert a.port != b.port
        pupil, config = student_login(a.base_url, student, data["day_password"])
        proctor = staff_client(b.base_url, data["proctor"]["username"], data["proctor"]["password"])
        room_url, room_headers = _ws(b.base_url, f"/ws/sitting/{sitting['id']}/", proctor)
        own_url, own_headers = _ws(a.base_url, f"/ws/attempt/{config['attempt']}/", pupil)
        with ws_connect(room_url, additional_headers=room_headers, open_timeout=5) as room:
            with ws_connect(own_url, additional_headers=own_headers, open_timeout=5) as own:
                assert json.loads(own.recv(timeout=5))["type"] == "hello"
                own.send('{"type":"hb"}')
                assert json.loads(own.recv(timeout=5))["type"] == "hb"
                # when: the student's socket closes on process A
                closed_at = time.monotonic()
                own.close()
            # then: the proctor's socket on process B hears it, within the close hold + 1 s
            notice = _notice(room, "connection_lost", config["attempt"], timeout=5)
            elapsed = time.monotonic() - closed_at
        assert notice is not None, f"no notice on B; see {a.log_path} and {b.log_path}"
        assert notice["name"] == student["name"]
        assert elapsed <= 1.5
        # and the drop was announced once, though two processes and two sweepers run
        stored = [
            d
            for kind, d in e2e.db.notices(sitting["id"])
            if kind == "connection_lost" and d.get("attempt") == config["attempt"]
        ]
        assert len(stored) == 1
    finally:
        if b is not None:
            b.stop()
        a.stop()
