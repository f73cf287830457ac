"""A deploy: SIGTERM to a web worker mid-load (the production command, uvicorn, as in
docker-compose), with Redis as the channel layer.

The worker stops within a bounded time (well inside docker-compose's stop_grace_period), its
sockets are closed with 1012 "service restart" and reconnect at once to another worker, nobody
is announced lost because of it, and no acknowledged save is missing.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.e2e.harness import HEARTBEAT_S, PrivateRedis, ServerProcess, staff_client
from tests.e2e.test_faults import (
    SavingClient,
    SocketListener,
    _assert_final_is_newest,
    _kinds,
    _lost,
    _ws,
)
from tests.e2e.test_outages import _unhandled

pytestmark = pytest.mark.fault

# docker-compose gives the web service this long after SIGTERM before SIGKILL (stop_grace_period).
STOP_GRACE_S = 15
# What the worker may take at most: 5 s for requests under way (--timeout-graceful-shutdown),
# 2 s for pending work, 3 s until the watchdog (docs/operations.md); usually well under a second.
STOPPED_WITHIN_S = 11


class FailoverSocket(SocketListener):
    """A student's presence socket behind a load balancer: after a close it reconnects to the
    next worker, keeping the close codes it was given."""

    def __init__(self, urls: list[str], headers: dict, *, heartbeat: float | None = None):
        super().__init__(urls[0], headers, heartbeat=heartbeat)
        self.urls = urls
        self.codes: list[int | None] = []
        self.reconnected_at: float | None = None
        self.closed_at: float | None = None

    def run(self) -> None:
        turn = 0
        while not self.stopped.is_set():
            url = self.urls[turn % len(self.urls)]
            try:
                with ws_connect(url, additional_headers=self.headers, open_timeout=3) as socket:
                    self.connects += 1
                    if self.closed_at is not None and self.reconnected_at is None:
                        self.reconnected_at = time.monotonic()
                    self.connected.set()
                    last_beat = 0.0
                    while not self.stopped.is_set():
                        if self.heartbeat and time.monotonic() - last_beat >= self.heartbeat:
                            socket.send('{"type":"hb"}')
                            last_beat = time.monotonic()
                        try:
                            message = socket.recv(timeout=0.2)
                        except TimeoutError:
                            continue
                        self.events.append((time.time(), json.loads(message)))
            except ConnectionClosed as closed:
                self.codes.append(closed.rcvd.code if closed.rcvd else None)
                self.closed_at = self.closed_at or time.monotonic()
            except Exception:  # noqa: S110 (refused: the next worker)
                pass
            finally:
                self.connected.clear()
            turn += 1
            time.sleep(0.25)  # the exam client's first reconnect delay


def _stream(client: SavingClient, stop: threading.Event, fallback: str) -> None:
    while not stop.is_set():
        client.edit()
        if client.flush():
            time.sleep(0.05)
        else:
            client.http.base_url = fallback  # the load balancer sends it to the other worker
            time.sleep(0.25)


def test_sigterm_stops_a_worker_in_bounded_time_and_its_sockets_move_on(e2e, redis_server_binary):
    data = e2e.data
    sitting = data["sittings"]["outages"]
    redis = PrivateRedis().start()
    worker = ServerProcess(
        env=e2e.env(redis_url=redis.url), name="deploy-worker", command="uvicorn"
    )
    other = None
    listeners: list[SocketListener] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        worker.start()
        # with the sweeper inside; made after the worker started so that it gets another port
        other = ServerProcess(env=e2e.env(redis_url=redis.url), name="deploy-other").start()
        kinds = _kinds(data)
        day = data["day_password"]
        # The outage tests use the first eight on a copy of this database.
        students = sitting["students"][8:11]
        clients = [
            SavingClient.login(worker.base_url, s, day, kinds, seed=80 + n)
            for n, s in enumerate(students)
        ]
        proctor = staff_client(
            other.base_url, data["proctor"]["username"], data["proctor"]["password"]
        )
        room = SocketListener(*_ws(other.base_url, f"/ws/sitting/{sitting['id']}/", proctor))
        sockets = []
        for client in clients:
            url, headers = _ws(
                worker.base_url, f"/ws/attempt/{client.config['attempt']}/", client.http
            )
            sockets.append(
                FailoverSocket(
                    [url, url.replace(str(worker.port), str(other.port))],
                    headers,
                    heartbeat=HEARTBEAT_S,
                )
            )
        listeners = [room, *sockets]
        for listener in listeners:
            listener.start()
        assert all(listener.connected.wait(10) for listener in listeners)
        threads = [
            threading.Thread(target=_stream, args=(c, stop, other.base_url)) for c in clients
        ]
        for thread in threads:
            thread.start()
        time.sleep(2)

        # when: the deploy sends SIGTERM to the worker mid-load
        signalled = time.monotonic()
        termed_at = time.time()
        worker.process.terminate()
        try:
            worker.process.wait(timeout=STOP_GRACE_S)
            stopped_in = time.monotonic() - signalled
        except Exception:
            stopped_in = None
            worker.kill()
        time.sleep(HEARTBEAT_S + 4 + 2)  # long enough for any drop to be announced
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        for client in clients:
            client.flush_all()
    finally:
        stop.set()
        for listener in listeners:
            listener.stopped.set()
        for listener in listeners:
            listener.join(timeout=5)
        worker.stop()
        if other is not None:
            other.stop()
        redis.stop()

    assert stopped_in is not None, f"the worker was still running {STOP_GRACE_S} s after SIGTERM"
    assert stopped_in < STOPPED_WITHIN_S, f"the worker took {stopped_in:.1f} s to stop"
    for socket in sockets:
        assert socket.codes[:1] == [1012], socket.codes
        assert socket.reconnected_at is not None
        assert socket.reconnected_at - socket.closed_at < 1.5
    announced = [
        e for at, e in room.events if at >= termed_at and e.get("type") == "notice"
        and e.get("kind") in ("connection_lost", "connection_restored")
    ]  # fmt: skip
    assert announced == [], announced
    for client in clients:
        assert client.refusals == []
        assert _lost(e2e.db, client.config["attempt"], client.acked_snapshot()) == []
        _assert_final_is_newest(e2e.db, client)
    assert _unhandled(worker.log_text()) == []
    print(
        json.dumps(
            {
                "worker_stopped_after_sigterm_s": round(stopped_in, 2),
                "reconnect_s": [round(s.reconnected_at - s.closed_at, 2) for s in sockets],
            }
        )
    )
