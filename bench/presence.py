"""Benchmark: drop → proctor notice latency with N connected students.

    python -m bench.presence [--students 2000] [--drops 200] [--clients 4]

Starts uvicorn (2 workers) on PostgreSQL + Redis and the presence sweeper as its own process
(`manage.py presence_sweeper`, every half second), connects N student sockets with heartbeats from
several client processes (the `websockets` library) and one proctor socket per sitting (300
students each). Then M students drop, spread over --spread seconds: half close their socket, half
go silent (stop sending and reading, the TCP connection stays open). For each drop it measures the
time until the proctor's socket receives "connection lost" for that student.

Last line: one JSON object with connected, dropped, close_p50_ms, close_p99_ms, silent_p50_ms,
silent_p99_ms, close_handshake_p99_ms, heartbeat_s, grace_s, missed. Close notices slower than a
second are named on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    BIN,
    ROOT,
    bench_env,
    emit,
    manage,
    percentile,
    recreate_database,
    running,
    start_uvicorn,
)

DB_NAME = "pp_bench_presence"
REDIS_URL = os.environ.get("BENCH_PRESENCE_REDIS_URL", "redis://127.0.0.1:6379/6")
SITTING_SIZE = 300


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


# --- seeding (runs inside a Django process) -------------------------------------------------------

SEED = r"""
import json, sys, datetime
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from delivery.models import Attempt, AttemptStatus
from exams.models import Sitting, SittingStudent
from schools.models import Person
from schools.roles import Role
from schools.services import role_assign
from tests.factories import (EnrolmentFactory, OrganiserFactory, RoomFactory, SchoolUnitFactory,
    SubtestFactory, staff_member)

n = int(sys.argv[1])
out = sys.argv[2]
now = timezone.now()
org = OrganiserFactory()
unit = SchoolUnitFactory(organiser=org)
subtest = SubtestFactory(duration_minutes=240)
proctor = staff_member(unit, duty_role="Lärare", username="bench-proctor")
role_assign(actor=None, person=proctor.person, school_unit=unit, role=Role.PROCTOR)
persons = Person.objects.bulk_create(
    [Person(organiser=org, external_id=f"bench-{i}", given_name=f"Elev{i}",
            family_name="Bench") for i in range(n)]
)
sittings, attempts = [], []
for start in range(0, n, 300):
    sitting = Sitting.objects.create(school_unit=unit, subtest=subtest,
        room=RoomFactory(school_unit=unit), starts_at=now)
    sittings.append(sitting)
    group = persons[start:start + 300]
    SittingStudent.objects.bulk_create([SittingStudent(sitting=sitting, person=p) for p in group])
    attempts += Attempt.objects.bulk_create([
        Attempt(sitting=sitting, person=p, status=AttemptStatus.WORKING, released_at=now,
                started_at=now, duration_seconds=4 * 3600,
                deadline=now + datetime.timedelta(hours=4),
                device_token=f"bench-device-{p.pk}")
        for p in group])
students = []
for a in attempts:
    s = SessionStore()
    s["student"] = {"attempt": a.pk, "device": a.device_token}
    s.create()
    students.append({"attempt": str(a.public_id), "session": s.session_key})
s = SessionStore()
s[SESSION_KEY] = str(proctor.pk)
s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
s[HASH_SESSION_KEY] = proctor.get_session_auth_hash()
s.create()
json.dump({"students": students, "sittings": [str(x.public_id) for x in sittings],
           "proctor_session": s.session_key}, open(out, "w"))
"""


def seed(env: dict[str, str], students: int) -> dict:
    out = Path(f"/tmp/pp-bench-presence-seed-{os.getpid()}.json")
    subprocess.run(
        [
            str(BIN / "python"),
            "manage.py",
            "shell",
            "-c",
            SEED.replace("sys.argv[1]", str(students)).replace("sys.argv[2]", repr(str(out))),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return json.loads(out.read_text())


# --- student client processes -----------------------------------------------------------------


def client_process(base_ws, students, plan, heartbeat_s, ready_q, go_at, result_q):
    raise_file_limit()
    asyncio.run(_client(base_ws, students, plan, heartbeat_s, ready_q, go_at, result_q))


async def _client(base_ws, students, plan, heartbeat_s, ready_q, go_at, result_q):
    import websockets

    sockets: dict[str, object] = {}
    silent: set[str] = set()
    sem = asyncio.Semaphore(40)
    beaters: list[asyncio.Task] = []
    handshakes: dict[str, float] = {}  # how long each close handshake took

    async def beat(attempt, ws):
        await asyncio.sleep(random.random() * heartbeat_s)
        while attempt not in silent:
            try:
                await ws.send('{"type":"hb"}')
                while True:  # drain acknowledgements without blocking
                    await asyncio.wait_for(ws.recv(), timeout=0.001)
            except TimeoutError:
                pass
            except Exception:
                return
            await asyncio.sleep(heartbeat_s)

    async def open_one(student):
        async with sem:
            for _ in range(5):
                try:
                    ws = await websockets.connect(
                        f"{base_ws}/ws/attempt/{student['attempt']}/",
                        additional_headers={
                            "Cookie": f"sessionid={student['session']}",
                            "Origin": "http://127.0.0.1",
                        },
                        ping_interval=None,
                        open_timeout=30,
                        max_queue=None,
                    )
                    await ws.recv()  # hello
                    sockets[student["attempt"]] = ws
                    # Like the browser: heartbeats start at connect, not once every socket is open.
                    beaters.append(asyncio.create_task(beat(student["attempt"], ws)))
                    return
                except Exception:
                    await asyncio.sleep(0.5)

    await asyncio.gather(*(open_one(s) for s in students))

    ready_q.put(len(sockets))
    while go_at.value == 0:
        await asyncio.sleep(0.05)
    start = go_at.value
    drops = []
    for attempt, mode, offset in sorted(plan, key=lambda x: x[2]):
        ws = sockets.get(attempt)
        if ws is None:
            continue
        await asyncio.sleep(max(0.0, start + offset - time.time()))
        if mode == "close":
            t = time.time()
            silent.add(attempt)
            await ws.close()
            handshakes[attempt] = time.time() - t
        else:
            silent.add(attempt)  # stop heartbeats and reading; the connection stays open
            transport = getattr(ws, "transport", None)
            if transport is not None:
                transport.pause_reading()
            t = time.time()
        drops.append((attempt, mode, t, handshakes.get(attempt)))
    result_q.put(drops)
    await asyncio.sleep(3600)  # keep the sockets open until the parent stops us
    for task in beaters:
        task.cancel()


# --- the proctors -----------------------------------------------------------------------------


async def proctors(base_ws, sittings, session, received, stop):
    import websockets

    async def one(sitting):
        async with websockets.connect(
            f"{base_ws}/ws/sitting/{sitting}/",
            additional_headers={"Cookie": f"sessionid={session}", "Origin": "http://127.0.0.1"},
            ping_interval=None,
            max_queue=None,
        ) as ws:
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                now = time.time()
                event = json.loads(raw)
                if event.get("type") == "notice" and event.get("kind") == "connection_lost":
                    received.setdefault(event["attempt"], now)

    results = await asyncio.gather(*(one(s) for s in sittings), return_exceptions=True)
    for r in results:
        if isinstance(r, Exception):
            print(f"proctor socket failed: {r!r}", file=sys.stderr)


async def measure(args, base_ws, data, heartbeat_s, grace_s) -> dict:
    students = data["students"]
    rng = random.Random(7)
    dropped = rng.sample([s["attempt"] for s in students], args.drops)
    plan_all = {
        a: ("close" if i % 2 == 0 else "silent", args.spread * i / max(1, args.drops))
        for i, a in enumerate(dropped)
    }
    ctx = mp.get_context("spawn")
    ready_q, result_q = ctx.Queue(), ctx.Queue()
    go_at = ctx.Value("d", 0.0)
    chunks = [students[i :: args.clients] for i in range(args.clients)]
    procs = []
    for chunk in chunks:
        plan = [(s["attempt"], *plan_all[s["attempt"]]) for s in chunk if s["attempt"] in plan_all]
        p = ctx.Process(
            target=client_process,
            args=(base_ws, chunk, plan, heartbeat_s, ready_q, go_at, result_q),
            daemon=True,
        )
        p.start()
        procs.append(p)
    received: dict[str, float] = {}
    stop = asyncio.Event()
    proctor_task = asyncio.create_task(
        proctors(base_ws, data["sittings"], data["proctor_session"], received, stop)
    )
    loop = asyncio.get_running_loop()
    connected = 0
    for _ in procs:
        connected += await loop.run_in_executor(None, ready_q.get)
    await asyncio.sleep(2 * heartbeat_s)  # steady state
    go_at.value = time.time() + 1
    drops = []
    for _ in procs:
        drops += await loop.run_in_executor(None, result_q.get)
    deadline = time.time() + heartbeat_s + grace_s + 15
    while time.time() < deadline and not all(a in received for a, *_ in drops):
        await asyncio.sleep(0.2)
    stop.set()
    proctor_task.cancel()
    for p in procs:
        p.terminate()
    lat: dict[str, list[float]] = {"close": [], "silent": []}
    missed = 0
    handshakes = []
    for attempt, mode, t, handshake in drops:
        if handshake is not None:
            handshakes.append(handshake * 1000)
        if attempt in received:
            lat[mode].append((received[attempt] - t) * 1000)
            if mode == "close" and received[attempt] - t > 1:
                print(
                    f"slow close notice: {attempt} after {received[attempt] - t:.2f} s, "
                    f"close handshake {handshake:.2f} s",
                    file=sys.stderr,
                )
        else:
            missed += 1
    return {
        "connected": connected,
        "dropped": len(drops),
        "close_p50_ms": round(percentile(lat["close"], 50), 1),
        "close_p99_ms": round(percentile(lat["close"], 99), 1),
        "silent_p50_ms": round(percentile(lat["silent"], 50), 1),
        "silent_p99_ms": round(percentile(lat["silent"], 99), 1),
        "close_handshake_p99_ms": round(percentile(handshakes, 99), 1),
        "heartbeat_s": heartbeat_s,
        "grace_s": grace_s,
        "close_hold_s": float(os.environ.get("PRESENCE_CLOSE_HOLD_S", "0.5")),
        "missed": missed,
        "sittings": len(data["sittings"]),
        "client_processes": args.clients,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--drops", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--spread", type=float, default=10.0, help="seconds over which drops occur")
    args = parser.parse_args()
    raise_file_limit()
    heartbeat_s, grace_s = 3, 4
    database = recreate_database(DB_NAME)
    env = bench_env(
        database,
        REDIS_URL=REDIS_URL,
        PRESENCE_KEY_PREFIX=f"pp-bench-presence-{os.getpid()}",
        PRESENCE_HEARTBEAT_S=str(heartbeat_s),
        PRESENCE_GRACE_S=str(grace_s),
        DB_CONN_MAX_AGE="60",
    )
    print("migrating…", file=sys.stderr)
    manage(env, "migrate", "--noinput")
    print(f"seeding {args.students} students…", file=sys.stderr)
    data = seed(env, args.students)
    with (
        running(start_uvicorn(env=env, workers=2, health_path="/healthz")) as web,
        running(_sweeper(env)),
    ):
        base_ws = f"ws://127.0.0.1:{web.port}"
        print("connecting…", file=sys.stderr)
        result = asyncio.run(measure(args, base_ws, data, heartbeat_s, grace_s))
    emit(result)


class _Sweeper:
    def __init__(self, process):
        self.process = process

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _sweeper(env) -> _Sweeper:
    log = open(f"/tmp/pp-bench-sweeper-{os.getpid()}.log", "w")  # noqa: SIM115
    return _Sweeper(
        subprocess.Popen(
            [str(BIN / "python"), "manage.py", "presence_sweeper"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    )


if __name__ == "__main__":
    main()
