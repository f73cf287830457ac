"""Login burst benchmark: `python -m bench.login [--logins N] [--connections C]`.

Migrates a fresh PostgreSQL database (pp_bench_login), seeds N students with credentials and a
sitting today, starts the product under uvicorn with 2 workers, and lets every student log in at
once through the real login path over HTTP, each on a connection of its own (a browser): GET the
login page (CSRF cookie and token), POST username, password and the day password, expect the
redirect to the waiting page. At most C students are in flight at a time. The client speaks
HTTP/1.1 over raw asyncio sockets so that it costs a small fraction of a core (reported as
client_cpu_share); a general-purpose client spent a whole core on 1,000 requests in flight and
was measured instead of the server. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import time
import urllib.parse

from bench import common

DB_NAME = "pp_bench_login"
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_COOKIE = re.compile(r"csrftoken=([^;\s]+)")
DAY_PASSWORD = "BENCH234"


async def _exchange(reader, writer, raw: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    length = int(headers.get("content-length", ["0"])[0])
    body = await reader.readexactly(length) if length else b""
    return status, headers, body


async def one_login(port: int, username: str, password: str) -> float | None:
    """One student's browser: a fresh connection, the login page, the login. Seconds or None."""
    started = time.perf_counter()
    host = f"127.0.0.1:{port}"
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    try:
        status, headers, page = await _exchange(
            reader, writer, f"GET /student/ HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        )
        match = TOKEN.search(page)
        cookie = next(
            (m.group(1) for c in headers.get("set-cookie", []) if (m := CSRF_COOKIE.search(c))),
            None,
        )
        if status != 200 or not match or not cookie:
            return None
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": match.group(1).decode(),
                "username": username,
                "password": password,
                "day_password": DAY_PASSWORD,
            }
        ).encode()
        status, headers, _body = await _exchange(
            reader,
            writer,
            (
                f"POST /student/ HTTP/1.1\r\nHost: {host}\r\n"
                f"Cookie: csrftoken={cookie}\r\nReferer: http://{host}/student/\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(form)}\r\n\r\n"
            ).encode()
            + form,
        )
    except (OSError, asyncio.IncompleteReadError, ValueError):
        return None
    finally:
        writer.close()
    if status != 302 or not headers.get("location", [""])[0].endswith("/student/wait/"):
        return None
    return time.perf_counter() - started


def session_cpu_seconds(session_id: int) -> float:
    """CPU seconds (user + system) of every live process in a session: uvicorn and its workers."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, session, ..., utime (12th), stime (13th).
        if int(fields[3]) == session_id:
            total += int(fields[11]) + int(fields[12])
    return total / tick


async def burst(port: int, accounts, connections: int):
    """Every student at once, at most `connections` in flight; (results, seconds, client CPU)."""
    slots = asyncio.Semaphore(connections)

    async def student(username: str, password: str) -> float | None:
        async with slots:
            return await one_login(port, username, password)

    cpu0, started = time.process_time(), time.monotonic()
    results = await asyncio.gather(*(student(u, p) for u, p in accounts))
    seconds = time.monotonic() - started
    return results, seconds, (time.process_time() - cpu0) / seconds


def prepare(logins: int) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A fresh database with `logins` students holding credentials; (server env, accounts)."""
    url = common.recreate_database(DB_NAME)
    env = common.bench_env(
        url,
        # Connections come from psycopg's pool (at most one per request thread, 12 per process).
        DB_CONN_MAX_AGE="0",
        DB_POOL="true",
        STUDENT_CREDENTIAL_PEPPER=secrets.token_hex(16),
        STATIC_ROOT=f"/tmp/pp-bench-static-{os.getpid()}",
    )
    os.environ.update(env)
    common.manage(env, "migrate", "--noinput")
    common.manage(env, "collectstatic", "--noinput")
    import django

    django.setup()
    from django.db import connection

    from bench.seed import seed_sitting
    from delivery.models import StudentCredential
    from delivery.student_auth import secret_digest

    seeded = seed_sitting(students=logins, working=False)
    accounts = []
    rows = []
    for n, person in enumerate(seeded["persons"]):
        username, secret, salt = f"bench{n:05d}", secrets.token_urlsafe(8), secrets.token_hex(8)
        rows.append(
            StudentCredential(
                person=person,
                username=username,
                salt=salt,
                secret_digest=secret_digest(salt=salt, secret=secret),
            )
        )
        accounts.append((username, secret))
    StudentCredential.objects.bulk_create(rows)
    connection.close()
    return env, accounts


def measure(env: dict[str, str], accounts, connections: int) -> dict:
    """One login burst against a fresh uvicorn with `env`; the figures as a dict."""
    with common.running(
        common.start_uvicorn(env=env, workers=2, health_path="/student/", name="login")
    ) as server:
        server_cpu = session_cpu_seconds(server.process.pid)
        results, seconds, client_cpu = asyncio.run(burst(server.port, accounts, connections))
        server_cpu = session_cpu_seconds(server.process.pid) - server_cpu
    latencies = [r for r in results if r is not None]
    return {
        "logins": len(latencies),
        "failed": len(results) - len(latencies),
        "seconds": round(seconds, 2),
        "logins_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(common.percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(common.percentile(latencies, 99) * 1000, 1),
        "connections": connections,
        "client_cpu_share": round(client_cpu, 2),
        # The web server's own CPU per login (PostgreSQL and Redis not included): what a
        # faster login path saves, and less sensitive than `seconds` to other load.
        "server_cpu_ms_per_login": round(server_cpu * 1000 / max(1, len(results)), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=200)
    args = parser.parse_args()
    env, accounts = prepare(args.logins)
    common.emit(measure(env, accounts, args.connections))


if __name__ == "__main__":
    main()
