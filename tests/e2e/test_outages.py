"""Outages of the live sitting's own dependencies, against real processes started here.

(a) PostgreSQL (a private server holding a copy of the e2e database) is stopped mid-load for
    PP_FAULT_PG_OUTAGE_S (20 s) and started again: saves are answered 503 with Retry-After
    within about a second meanwhile, the first save after the return succeeds within 2 s, every
    drop during the outage is announced lost (live at once, stored once the database is back)
    and restored, and the log holds no traceback.
(b) A device switch, then the old device's stale saves, through both save paths (the ASGI route
    and the Django view, one server each on the same database): never acknowledged.
After each: 0 acknowledged saves missing or overwritten, 0 acknowledgements for content not
stored. The Redis outage and SIGKILL tests are in test_faults.py; SIGTERM in test_deploy.py.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import (
    HEARTBEAT_S,
    PrivatePostgres,
    PrivateRedis,
    ServerProcess,
    run_env,
    staff_client,
    student_login,
)
from tests.e2e.test_faults import (
    SavingClient,
    SocketListener,
    _assert_final_is_newest,
    _kinds,
    _lost,
    _ws,
)

pytestmark = pytest.mark.fault

PG_OUTAGE_S = float(os.environ.get("PP_FAULT_PG_OUTAGE_S", "20"))
UNHANDLED = ("Traceback", "Exception in ASGI application", "Exception inside application")


class TimedClient(SavingClient):
    """The exam client's rules, with every answer's status and time kept."""

    def flush(self) -> bool:
        saves = self.pending()
        if not saves:
            return True
        sent = time.monotonic()
        try:
            response = self.http.post(
                self.config["saveUrl"],
                content=json.dumps({"saves": saves}),
                headers={
                    "Content-Type": "application/json",
                    "X-Device-Token": self.config["device"],
                },
                timeout=30,
            )
        except httpx.TransportError:
            self.answers.append((sent, time.monotonic(), 0, None))
            self.failed_posts += 1
            return False
        self.answers.append(
            (sent, time.monotonic(), response.status_code, response.headers.get("retry-after"))
        )
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


def _timed(base_url, student, day_password, kinds, seed) -> TimedClient:
    client = TimedClient.login(base_url, student, day_password, kinds, seed=seed)
    client.answers = []
    return client


def _stream(client: SavingClient, stop: threading.Event) -> None:
    while not stop.is_set():
        client.edit()
        if client.flush():
            time.sleep(0.05)
        else:
            time.sleep(0.25)  # keep editing offline, re-send later (the client waits longer)


def _unhandled(log_text: str) -> list[str]:
    return [line for line in log_text.splitlines() if any(m in line for m in UNHANDLED)]


@pytest.fixture
def private_postgres(e2e):
    if e2e.db.engine != "postgres":
        pytest.skip("the database outage needs PostgreSQL")
    pg = PrivatePostgres(root=Path(tempfile.mkdtemp(prefix="pp-e2e-pg-")))
    try:
        pg.init().start().copy_from(e2e.db.url)
        yield pg
    finally:
        pg.remove()


def test_database_outage_saves_fail_fast_recover_at_once_and_every_drop_is_announced(
    e2e, private_postgres, redis_server_binary
):
    data, pg = e2e.data, private_postgres
    sitting = data["sittings"]["outages"]
    names = [s["name"] for s in sitting["students"]]
    redis = PrivateRedis().start()
    server = ServerProcess(env=run_env(pg.url, redis_url=redis.url), name="outage-pg").start()
    listeners: list[SocketListener] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        base = server.base_url
        kinds = _kinds(data)
        day = data["day_password"]
        savers = [
            _timed(base, s, day, kinds, seed=40 + n) for n, s in enumerate(sitting["students"][:3])
        ]
        closes, mutes = (
            SavingClient.login(base, s, day, kinds, seed=50 + n)
            for n, s in enumerate(sitting["students"][3:5])
        )
        proctor = staff_client(base, data["proctor"]["username"], data["proctor"]["password"])
        room = SocketListener(*_ws(base, f"/ws/sitting/{sitting['id']}/", proctor))
        closer = SocketListener(
            *_ws(base, f"/ws/attempt/{closes.config['attempt']}/", closes.http),
            heartbeat=HEARTBEAT_S,
        )
        muter = SocketListener(
            *_ws(base, f"/ws/attempt/{mutes.config['attempt']}/", mutes.http),
            heartbeat=HEARTBEAT_S,
        )
        listeners = [room, closer, muter]
        for listener in listeners:
            listener.start()
        assert all(listener.connected.wait(10) for listener in listeners)
        threads = [threading.Thread(target=_stream, args=(c, stop)) for c in savers]
        for thread in threads:
            thread.start()
        time.sleep(2)

        # when: PostgreSQL stops (a fast shutdown ends every connection) mid-load
        pg.stop()
        down = time.monotonic()
        time.sleep(1)
        closed_at = closer.drop()  # a socket closes during the outage
        muter.heartbeat = None  # and one goes silent (the sweeper finds it)
        # then: proctors hear of the closed socket at once, from Redis alone
        live_lost = room.wait_notice("connection_lost", names[3], after=closed_at, timeout=5)
        heard_after = time.time() - closed_at
        assert live_lost["id"] is None and live_lost["pending"] is True
        time.sleep(max(0.0, min(PG_OUTAGE_S - 5, HEARTBEAT_S + 4 + 2)))
        room.wait_notice("connection_lost", names[4], after=closed_at, timeout=10)
        muter.heartbeat = HEARTBEAT_S  # the silent one is back before the database
        closer.resume()  # the closed one keeps trying to reconnect (refused with 1013 meanwhile)
        time.sleep(max(0.0, PG_OUTAGE_S - (time.monotonic() - down)))

        # when: PostgreSQL is back
        pg.start()
        up = time.monotonic()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            first_ok = min(
                (answered for c in savers for sent, answered, status, _ in c.answers
                 if status == 200 and sent >= up),
                default=None,
            )  # fmt: skip
            if first_ok is not None:
                break
            time.sleep(0.05)
        assert first_ok is not None, "no save succeeded after the database came back"
        recovered_in = first_ok - up
        assert closer.connected.wait(15), "the closed socket never came back"

        # then: every drop of the outage is stored lost, then restored, once the database is back
        def stored() -> dict[str, list[str]]:
            found: dict[str, list[str]] = {}
            for kind, notice in e2e_notices(pg, sitting["id"]):
                found.setdefault(notice.get("name"), []).append(kind)
            return found

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            held = stored()
            if all(
                held.get(n, [])[-2:] == ["connection_lost", "connection_restored"]
                for n in names[3:5]
            ):
                break
            time.sleep(0.2)
        written_in = time.monotonic() - up
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        for client in savers:
            client.flush_all()
    finally:
        stop.set()
        for listener in listeners:
            listener.stopped.set()
        for listener in listeners:
            listener.join(timeout=5)
        server.stop()
        redis.stop()

    for name in names[3:5]:
        assert held.get(name) == ["connection_lost", "connection_restored"], held
    _assert_restored_only_after_lost(e2e_notices(pg, sitting["id"]))
    assert [e for _, e in room.events if e.get("type") == "notice" and e.get("pending")], (
        "no notice reached the proctor live during the outage"
    )
    outage = [
        (answered - sent, status, retry)
        for c in savers
        for sent, answered, status, retry in c.answers
        if down + 0.5 < sent and answered < up
    ]
    assert outage, "no save was sent during the outage"
    assert {status for _, status, _ in outage} == {503}, outage[:5]
    assert all(retry for _, _, retry in outage)
    slowest = max(waited for waited, _, _ in outage)
    assert slowest < 2.0, f"a save waited {slowest:.2f} s during the outage"
    assert recovered_in < 2.0, f"first save {recovered_in:.2f} s after the database's return"
    for client in savers:
        assert client.refusals == []
        assert _lost(pg_db(pg), client.config["attempt"], client.acked_snapshot()) == []
        _assert_final_is_newest(pg_db(pg), client)
    assert _unhandled(server.log_text()) == []
    print(
        json.dumps(
            {
                "pg_outage_s": PG_OUTAGE_S,
                "saves_answered_503": len(outage),
                "slowest_503_s": round(slowest, 3),
                "first_save_after_return_s": round(recovered_in, 3),
                "live_lost_notice_during_outage_s": round(heard_after, 3),
                "stored_notices_after_return_s": round(written_in, 3),
            }
        )
    )


def pg_db(pg: PrivatePostgres):
    from tests.e2e.harness import Database

    return Database(url=pg.url, engine="postgres", name=pg.dbname)


def e2e_notices(pg: PrivatePostgres, sitting: str) -> list[tuple[str, dict]]:
    return pg_db(pg).notices(sitting)


def _assert_restored_only_after_lost(notices: list[tuple[str, dict]]) -> None:
    announced: set[str] = set()
    for kind, data in notices:
        if kind == "connection_lost":
            announced.add(data.get("drop"))
        elif kind == "connection_restored":
            assert data.get("drop") in announced, f"restored without lost: {data}"


# --- (b) a device switch, then the old device's stale saves, through both save paths -----------


@pytest.mark.parametrize("fast_path", [True, False], ids=["asgi-route", "django-view"])
def test_old_device_stale_saves_are_never_acknowledged(e2e, fast_path):
    if e2e.db.engine != "postgres" and fast_path:
        pytest.skip("the ASGI route serves saves on PostgreSQL")
    data = e2e.data
    student = data["sittings"]["outages"]["students"][6 if fast_path else 7]
    env = e2e.env()
    env["DELIVERY_SAVE_FAST_PATH"] = "true" if fast_path else "false"
    server = ServerProcess(env=env, name=f"outage-switch-{int(fast_path)}").start()
    try:
        base = server.base_url
        old = SavingClient.login(base, student, data["day_password"], _kinds(data), seed=70)
        item = old.config["items"][4]  # extended text
        for _ in range(3):
            old.edit(item)
        old.flush_all()
        held_seq = old.acked[item]
        # the student continues on another device, which numbers above what the server holds
        http, config = student_login(base, student, data["day_password"])
        new_text = "the new device's answer"
        answer = http.post(
            config["saveUrl"],
            content=json.dumps(
                {"saves": [{"item": item, "seq": held_seq + 1, "content": new_text}]}
            ),
            headers={"Content-Type": "application/json", "X-Device-Token": config["device"]},
        )
        assert answer.status_code == 200 and answer.json()["acked"]
        # the old device sends stale saves: below, at and above the stored sequence
        for seq in (held_seq, held_seq + 1, held_seq + 2):
            refused = old.http.post(
                old.config["saveUrl"],
                content=json.dumps({"saves": [{"item": item, "seq": seq, "content": "stale"}]}),
                headers={
                    "Content-Type": "application/json",
                    "X-Device-Token": old.config["device"],
                },
            )
            assert refused.status_code == 409, (seq, refused.text)
            assert refused.json() == {
                "acked": [],
                "error": "device_replaced",
                "server_time": refused.json()["server_time"],
            }
        held = e2e.db.responses(old.config["attempt"])
        assert held[item] == (held_seq + 1, new_text)
        assert _unhandled(server.log_text()) == []
    finally:
        server.stop()
