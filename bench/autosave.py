"""Autosave benchmark: `python -m bench.autosave [--students N] [--seconds S]`.

Migrates a fresh PostgreSQL database (pp_bench_autosave), seeds N working students, then runs the
same load twice: against the baseline (a minimal Django view doing one upsert, gunicorn with 2 sync
workers) and against the real save path (uvicorn with 2 workers). Each simulated student sends
one save at a time over its own HTTP/1.1 connection (raw asyncio sockets: the client costs a small
fraction of a core, reported as client_cpu_share). Afterwards every acknowledged save is looked up
in the database. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time

from bench import common

DB_NAME = "pp_bench_autosave"


class Stats:
    def __init__(self):
        self.latencies: list[float] = []
        self.acked: dict[tuple[str, str], int] = {}
        self.errors = 0


async def _request(reader, writer, raw: bytes) -> tuple[int, bytes, bool]:
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and "close" in value.lower():
            close = True
    body = await reader.readexactly(length) if length else b""
    return status, body, close


async def student(port, attempt, token, items, stop_at, stats: Stats, rng: random.Random):
    seqs = dict.fromkeys(items, 0)
    reader = writer = None
    while time.monotonic() < stop_at:
        item = rng.choice(items)
        seqs[item] += 1
        body = json.dumps(
            {"saves": [{"item": item, "seq": seqs[item], "content": f"svar {seqs[item]}" * 8}]}
        ).encode()
        raw = (
            f"POST /api/v1/delivery/attempts/{attempt}/saves HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"X-Device-Token: {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            status, payload, close = await _request(reader, writer, raw)
        except (OSError, asyncio.IncompleteReadError):
            stats.errors += 1
            writer = None
            await asyncio.sleep(0.05)
            continue
        if status == 200:
            stats.latencies.append(time.perf_counter() - started)
            for ack in json.loads(payload)["acked"]:
                key = (attempt, ack["item"])
                stats.acked[key] = max(stats.acked.get(key, 0), ack["seq"])
        else:
            stats.errors += 1
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def load(port, attempts, items, seconds, warmup) -> tuple[Stats, float, float]:
    rng = random.Random(7)
    warm = Stats()
    stop = time.monotonic() + warmup
    await asyncio.gather(*(student(port, a, t, items, stop, warm, rng) for a, t in attempts))
    stats = Stats()
    cpu0, t0 = time.process_time(), time.monotonic()
    stop = t0 + seconds
    await asyncio.gather(*(student(port, a, t, items, stop, stats, rng) for a, t in attempts))
    wall = time.monotonic() - t0
    for key, seq in warm.acked.items():
        stats.acked[key] = max(stats.acked.get(key, 0), seq)
    return stats, wall, (time.process_time() - cpu0) / wall


def lost_saves(acked: dict[tuple[str, str], int]) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.public_id::text, i.public_id::text, r.seq FROM delivery_response r "
            "JOIN delivery_attempt a ON a.id = r.attempt_id JOIN exams_item i ON i.id = r.item_id"
        )
        held = {(a, i): s for a, i, s in cursor.fetchall()}
    return sum(1 for key, seq in acked.items() if held.get(key, 0) < seq)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()

    url = common.recreate_database(DB_NAME)
    env = common.bench_env(url, DB_CONN_MAX_AGE="0")
    os.environ.update(env)
    common.manage(env, "migrate", "--noinput")
    import django

    django.setup()
    from django.db import connection

    from bench.seed import seed_sitting

    seeded = seed_sitting(students=args.students)
    attempts, items = seeded["attempts"], seeded["items"]
    connection.close()

    health = "/api/v1/delivery/attempts/00000000-0000-0000-0000-000000000000/saves"
    # Sync workers hold one connection each: persistent connections are the fast way there.
    baseline_env = dict(
        env, DJANGO_SETTINGS_MODULE="bench.baseline_settings", DB_CONN_MAX_AGE="600"
    )
    with common.running(
        common.start_gunicorn(env=baseline_env, workers=2, health_path="/health", name="baseline")
    ) as server:
        base, base_wall, _ = asyncio.run(
            load(server.port, attempts, items, args.seconds, args.warmup)
        )
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE delivery_response")
    with common.running(
        common.start_uvicorn(env=env, workers=2, health_path=health, name="save-path")
    ) as server:
        real, real_wall, client_cpu = asyncio.run(
            load(server.port, attempts, items, args.seconds, args.warmup)
        )
    lost = lost_saves(real.acked)
    base_rate = len(base.latencies) / base_wall
    rate = len(real.latencies) / real_wall
    common.emit(
        {
            "students": args.students,
            "seconds": args.seconds,
            "saves": len(real.latencies),
            "saves_per_s": round(rate, 1),
            "baseline_saves_per_s": round(base_rate, 1),
            "ratio": round(rate / base_rate, 2) if base_rate else None,
            "p50_ms": round(common.percentile(real.latencies, 50) * 1000, 1),
            "p99_ms": round(common.percentile(real.latencies, 99) * 1000, 1),
            "baseline_p50_ms": round(common.percentile(base.latencies, 50) * 1000, 1),
            "baseline_p99_ms": round(common.percentile(base.latencies, 99) * 1000, 1),
            "errors": real.errors,
            "baseline_errors": base.errors,
            "acked_items_checked": len(real.acked),
            "lost": lost,
            "client_cpu_share": round(client_cpu, 2),
        }
    )


if __name__ == "__main__":
    main()
