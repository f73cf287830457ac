"""Faults against the real server process: no acknowledged answer is ever lost.

(a) The server is killed with SIGKILL (twice) while several clients stream saves, then started
    again; clients keep editing while it is down and re-send what was never acknowledged, as
    static/js/exam-client.js does.
(b) Redis (a private redis-server, never the shared one) is stopped mid-sitting for
    PP_FAULT_REDIS_OUTAGE_S (30 s in the suite; 60 s is the documented real length, run with
    PP_FAULT_REDIS_OUTAGE_S=60): saves and submits go on, no socket is closed, heartbeats are
    answered, connectivity notices degrade without crashing anything and come back without
    restarting the server; group delivery resumes by itself and the proctor page is told to
    catch up with the notices written meanwhile (a device switch).
(c) Saves duplicated, reordered and dropped by hypothesis, sent over HTTP to the real server
    (the PostgreSQL fast path or the ORM path, whichever the run uses; tests/delivery covers the
    service function itself).
In every case: 0 acknowledged answers lost, and the final state is the newest sequence sent.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect as ws_connect

from tests.e2e.harness import (
    HEARTBEAT_S,
    PrivateRedis,
    cookie_header,
    staff_client,
    student_login,
)

pytestmark = pytest.mark.fault

NETWORK_ERRORS = (httpx.TransportError,)
REDIS_OUTAGE_S = float(os.environ.get("PP_FAULT_REDIS_OUTAGE_S", "30"))


# --- a simulated exam client ------------------------------------------------------------------


@dataclass
class SavingClient:
    """Edits items, keeps every edit locally with a per-item sequence number, sends what is not
    acknowledged, and re-sends after a failure: the exam client's rules."""

    http: httpx.Client
    config: dict
    kinds: dict[str, str]
    rng: random.Random
    local: dict[str, tuple[int, object]] = field(default_factory=dict)
    acked: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    failed_posts: int = 0
    refusals: list = field(default_factory=list)

    @classmethod
    def login(cls, base_url: str, student: dict, day_password: str, kinds: dict, seed: int):
        http, config = student_login(base_url, student, day_password)
        return cls(http=http, config=config, kinds=kinds, rng=random.Random(seed))

    def _content(self, item: str, seq: int):
        kind = self.kinds[item]
        if kind == "single_choice":
            return [self.rng.choice("ABC")]
        if kind == "multiple_choice":
            return sorted(self.rng.sample("ABC", self.rng.randint(1, 3)))
        return f"svar {seq} " + "ord " * self.rng.randint(0, 40)

    def edit(self, item: str | None = None) -> None:
        item = item or self.rng.choice(self.config["items"])
        with self.lock:
            seq = self.local.get(item, (0, None))[0] + 1
            self.local[item] = (seq, self._content(item, seq))

    def pending(self) -> list[dict]:
        with self.lock:
            return [
                {"item": item, "seq": seq, "content": content}
                for item, (seq, content) in self.local.items()
                if seq > self.acked.get(item, 0)
            ]

    def flush(self) -> bool:
        saves = self.pending()
        if not saves:
            return True
        try:
            response = self.http.post(
                self.config["saveUrl"],
                content=json.dumps({"saves": saves}),
                headers={
                    "Content-Type": "application/json",
                    "X-Device-Token": self.config["device"],
                },
                timeout=5,
            )
        except NETWORK_ERRORS:
            self.failed_posts += 1
            return False
        if response.status_code >= 500:
            self.failed_posts += 1
            return False
        body = response.json()
        with self.lock:
            for ack in body.get("acked", []):
                self.acked[ack["item"]] = max(self.acked.get(ack["item"], 0), ack["seq"])
                self.sent += 1
        if response.status_code != 200:
            self.refusals.append((response.status_code, body))
            return False
        return True

    def acked_snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.acked)

    def flush_all(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.pending():
            assert time.monotonic() < deadline, f"saves never acknowledged: {self.pending()}"
            if not self.flush():
                time.sleep(0.2)


def _stream(client: SavingClient, stop: threading.Event) -> None:
    backoff = 0.05
    while not stop.is_set():
        client.edit()
        if client.flush():
            backoff = 0.05
            time.sleep(0.01)
        else:
            time.sleep(backoff)  # keep editing offline, re-send later
            backoff = min(backoff * 2, 0.4)


def _lost(db, attempt: str, acked: dict[str, int]) -> list[tuple[str, int, int]]:
    """Acknowledged saves the database does not hold (or hold something newer than)."""
    held = db.responses(attempt)
    return [
        (item, seq, held.get(item, (0, None))[0])
        for item, seq in acked.items()
        if held.get(item, (0, None))[0] < seq
    ]


def _assert_final_is_newest(db, client: SavingClient) -> None:
    held = db.responses(client.config["attempt"])
    for item, (seq, content) in client.local.items():
        assert held[item] == (seq, content), f"item {item}: server {held[item][0]}, newest {seq}"


def _kinds(data: dict) -> dict[str, str]:
    return {item["id"]: item["kind"] for item in data["items"]}


# --- (a) SIGKILL during a stream of saves -------------------------------------------------------


def test_server_killed_during_saves_loses_no_acknowledged_answer(e2e):
    data = e2e.data
    server = e2e.server("faults-kill").start()
    try:
        students = data["sittings"]["faults"]["students"][:4]
        clients = [
            SavingClient.login(server.base_url, s, data["day_password"], _kinds(data), seed=n)
            for n, s in enumerate(students)
        ]
        stop = threading.Event()
        threads = [threading.Thread(target=_stream, args=(c, stop)) for c in clients]
        for thread in threads:
            thread.start()
        kills = []
        try:
            for _ in range(2):
                time.sleep(1.5)
                server.kill()
                # Every answer a client holds an acknowledgement for was received before the
                # kill; with the server dead, the database alone must hold each of them.
                acked = [c.acked_snapshot() for c in clients]
                lost = [
                    _lost(e2e.db, c.config["attempt"], a)
                    for c, a in zip(clients, acked, strict=True)
                ]
                kills.append((sum(len(a) for a in acked), lost))
                time.sleep(0.5)  # clients keep editing into their local buffers
                server.start()
            time.sleep(1.5)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        for client in clients:
            client.flush_all()
    finally:
        server.stop()

    print(
        "saves acknowledged:",
        sum(c.sent for c in clients),
        "failed posts (server down):",
        sum(c.failed_posts for c in clients),
    )
    assert server.starts == 3
    assert all(c.failed_posts for c in clients), "the kills did not interrupt the stream"
    for acked_items, lost in kills:
        assert acked_items > 0
        assert lost == [[] for _ in clients]
    for client in clients:
        assert client.refusals == []
        _assert_final_is_newest(e2e.db, client)


# --- (b) Redis stopped for 60 s -----------------------------------------------------------------


class SocketListener(threading.Thread):
    """A WebSocket that reconnects until stopped, recording every event it receives."""

    def __init__(self, url: str, headers: dict, *, heartbeat: float | None = None):
        super().__init__(daemon=True)
        self.url, self.headers, self.heartbeat = url, headers, heartbeat
        self.events: list[tuple[float, dict]] = []
        self.connected = threading.Event()
        self.stopped = threading.Event()
        self.paused = threading.Event()
        self.connects = 0
        self._socket = None

    def run(self) -> None:
        while not self.stopped.is_set():
            if self.paused.is_set():
                time.sleep(0.05)
                continue
            try:
                with ws_connect(
                    self.url, additional_headers=self.headers, open_timeout=3
                ) as socket:
                    self._socket = socket
                    self.connects += 1
                    self.connected.set()
                    last_beat = 0.0
                    while not self.stopped.is_set() and not self.paused.is_set():
                        if self.heartbeat and time.monotonic() - last_beat >= self.heartbeat:
                            socket.send('{"type":"hb"}')
                            last_beat = time.monotonic()
                        try:
                            message = socket.recv(timeout=0.2)
                        except TimeoutError:
                            continue
                        self.events.append((time.time(), json.loads(message)))
            except Exception:  # noqa: S110 (refused, reset, closed: reconnect like the pages do)
                pass
            finally:
                self._socket = None
                self.connected.clear()
            time.sleep(0.3)

    def drop(self) -> float:
        """Close the socket (a tab closed, a laptop lid shut) and stay away until resume()."""
        self.paused.set()
        at = time.time()
        socket = self._socket
        if socket is not None:
            socket.close()
        return at

    def resume(self) -> None:
        self.paused.clear()

    def wait_notice(self, kind: str, name: str, *, after: float, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, event in list(self.events):
                if (
                    at >= after
                    and event.get("type") == "notice"
                    and event.get("kind") == kind
                    and event.get("name") == name
                ):
                    return event
            time.sleep(0.1)
        raise AssertionError(f"no {kind} notice for {name} after {after}: {self.events[-5:]}")


def _wait_event(listener: SocketListener, kind: str, *, after: float, timeout: float) -> float:
    """When the listener heard an event of this type after `after` (epoch seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for at, event in list(listener.events):
            if at >= after and event.get("type") == kind:
                return at
        time.sleep(0.05)
    raise AssertionError(f"no {kind} event after {after}: {listener.events[-5:]}")


def _ws(base_url: str, path: str, client: httpx.Client) -> tuple[str, dict]:
    return (
        base_url.replace("http://", "ws://") + path,
        {"Cookie": cookie_header(client), "Origin": base_url},
    )


def _submit(client: httpx.Client) -> httpx.Response:
    return client.post(
        "/student/submit/",
        headers={"Accept": "application/json", "X-CSRFToken": client.cookies["csrftoken"]},
    )


def test_redis_outage_keeps_saves_and_submits_and_notices_recover(e2e, redis_server_binary):
    data = e2e.data
    sitting = data["sittings"]["faults"]
    redis = PrivateRedis().start()
    server = e2e.server("faults-redis", redis_url=redis.url).start()
    listeners: list[SocketListener] = []
    try:
        base = server.base_url
        proctor = staff_client(base, data["proctor"]["username"], data["proctor"]["password"])
        kinds = _kinds(data)
        stays, leaves = (
            SavingClient.login(base, s, data["day_password"], kinds, seed=10 + n)
            for n, s in enumerate(sitting["students"][4:6])
        )
        stays_name = sitting["students"][4]["name"]
        student_login(base, sitting["students"][7], data["day_password"])  # switches later
        room = SocketListener(
            *_ws(base, f"/ws/sitting/{sitting['id']}/", proctor), heartbeat=HEARTBEAT_S
        )
        student = SocketListener(
            *_ws(base, f"/ws/attempt/{stays.config['attempt']}/", stays.http),
            heartbeat=HEARTBEAT_S,
        )
        listeners = [room, student]
        for listener in listeners:
            listener.start()
        assert room.connected.wait(10) and student.connected.wait(10)

        # given: with Redis up, a drop reaches the proctor
        time.sleep(1)
        dropped = student.drop()
        room.wait_notice("connection_lost", stays_name, after=dropped, timeout=5)
        student.resume()
        room.wait_notice("connection_restored", stays_name, after=dropped, timeout=10)

        # when: Redis goes away
        redis.stop()
        down_at = time.monotonic()
        down_ts = time.time()
        outage_saves = 0
        submitted = None
        switched = None
        student.drop()
        while time.monotonic() - down_at < REDIS_OUTAGE_S:
            for client in (stays, leaves) if submitted is None else (stays,):
                client.edit()
                assert client.flush(), client.refusals or "a save failed during the outage"
                outage_saves += 1
            if switched is None and time.monotonic() - down_at > REDIS_OUTAGE_S / 4:
                # a device switch during the outage: its notice is stored, not sent live
                student_login(base, sitting["students"][7], data["day_password"])
                switched = time.monotonic()
            if submitted is None and time.monotonic() - down_at > REDIS_OUTAGE_S / 3:
                leaves.flush_all()
                submitted = _submit(leaves.http)
                # then: the submit succeeds too, and the pages still answer
                assert submitted.status_code == 200, submitted.text
                assert submitted.json()["status"] == "submitted"
                health = httpx.get(base + "/healthz", timeout=5)
                assert health.status_code == 200 and "down" in json.dumps(health.json())
                assert proctor.get(f"/proctor/sittings/{sitting['id']}/").status_code == 200
                student.resume()  # the exam client keeps trying to reconnect
            time.sleep(0.5)
        assert server.running, "the server died while Redis was away"
        up_ts = time.time()
        # then: the proctor's socket stayed open and its heartbeats were answered
        assert room.connects == 1, "the proctor's socket was closed during the outage"
        beats = [at for at, e in room.events if e.get("type") == "hb" and down_ts < at < up_ts]
        assert len(beats) >= REDIS_OUTAGE_S / HEARTBEAT_S - 2, beats

        # when: Redis is back (empty: nothing was persisted)
        redis.start()
        back = time.time()
        # then: group delivery resumes by itself, and the page is told to catch up
        resync = _wait_event(room, "resync", after=back, timeout=10)
        state = proctor.get(f"/proctor/sittings/{sitting['id']}/state/").json()
        kinds = [n["kind"] for n in state["notices"]]
        assert "device_switched" in kinds, kinds
        assert room.connects == 1
        assert student.connected.wait(30), "the student's socket never came back"
        time.sleep(HEARTBEAT_S + 1)

        # then: a new drop produces a notice again, with the same server process
        dropped = student.drop()
        room.wait_notice("connection_lost", stays_name, after=dropped, timeout=10)
        assert server.running and server.starts == 1
    finally:
        for listener in listeners:
            listener.stopped.set()
        for listener in listeners:
            listener.join(timeout=5)
        server.stop()
        redis.stop()

    print(
        json.dumps(
            {
                "redis_outage_s": REDIS_OUTAGE_S,
                "saves_acknowledged_during_outage": outage_saves,
                "resync_after_return_s": round(resync - back, 3),
            }
        )
    )
    for client in (stays, leaves):
        _assert_final_is_newest(e2e.db, client)
    assert e2e.db.attempt_status(leaves.config["attempt"]) == "submitted"
    assert "Traceback" not in server.log_text()


# --- (c) duplicated, reordered and dropped saves over HTTP ------------------------------------


@pytest.fixture(scope="module")
def hypothesis_client(e2e, e2e_server):
    student = e2e.data["sittings"]["faults"]["students"][6]
    client = SavingClient.login(
        e2e_server.base_url, student, e2e.data["day_password"], _kinds(e2e.data), seed=99
    )
    client.round = 0
    return client


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_duplicated_reordered_and_dropped_saves_over_http(e2e, hypothesis_client, data):
    client = hypothesis_client
    client.round += 1
    base = client.round * 1000  # each example's sequences are newer than every earlier one
    items = client.config["items"][:3]
    edits = {
        item: data.draw(st.integers(1, 6), label=f"edits of item {i}")
        for i, item in enumerate(items)
    }
    sent = [
        {"item": item, "seq": base + n, "content": f"round {client.round} edit {n}"}
        for item, count in edits.items()
        for n in range(1, count + 1)
    ]
    # The network delivers any subset, in any order, some more than once, in batches.
    delivered = data.draw(st.lists(st.sampled_from(sent), max_size=30), label="delivered")
    sizes = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=10), label="batches")
    acked: dict[str, int] = {}
    position = turn = 0
    while position < len(delivered):
        batch = delivered[position : position + sizes[turn % len(sizes)]]
        position += len(batch)
        turn += 1
        response = client.http.post(
            client.config["saveUrl"],
            content=json.dumps({"saves": batch}),
            headers={"Content-Type": "application/json", "X-Device-Token": client.config["device"]},
        )
        assert response.status_code == 200, response.text
        for ack in response.json()["acked"]:
            acked[ack["item"]] = max(acked.get(ack["item"], 0), ack["seq"])
    held = e2e.db.responses(client.config["attempt"])
    assert _lost(e2e.db, client.config["attempt"], acked) == []
    for item in items:
        newest = max((s["seq"] for s in delivered if s["item"] == item), default=None)
        if newest is not None:
            assert held[item] == (newest, f"round {client.round} edit {newest - base}")
        else:
            assert held.get(item, (0, None))[0] < base  # untouched by this example
