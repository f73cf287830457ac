"""Login burst benchmark: `python -m bench.login [--logins N] [--connections C]`.

Migrates a fresh PostgreSQL database (pp_bench_login), seeds N students with credentials and a
sitting today, starts the product under uvicorn with 2 workers, and lets every student log in at
once through the real login path over HTTP: GET the login page (CSRF cookie and token), POST
username, password and the day password, expect the redirect to the waiting page. The last line
is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import time

import httpx

from bench import common

DB_NAME = "pp_bench_login"
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


async def one_login(client: httpx.AsyncClient, username: str, password: str) -> float | None:
    started = time.perf_counter()
    page = await client.get("/student/")
    match = TOKEN.search(page.content)
    cookie = page.cookies.get("csrftoken")
    if page.status_code != 200 or not match or not cookie:
        return None
    response = await client.post(
        "/student/",
        data={
            "csrfmiddlewaretoken": match.group(1).decode(),
            "username": username,
            "password": password,
            "day_password": "BENCH234",
        },
        headers={"Cookie": f"csrftoken={cookie}", "Referer": str(client.base_url) + "/student/"},
    )
    if response.status_code != 302 or not response.headers.get("location", "").endswith(
        "/student/wait/"
    ):
        return None
    return time.perf_counter() - started


async def burst(base_url: str, accounts, connections: int):
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        client.cookies = httpx.Cookies()  # never shared between students
        started = time.monotonic()
        results = await asyncio.gather(*(one_login(client, u, p) for u, p in accounts))
        return results, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=200)
    args = parser.parse_args()

    url = common.recreate_database(DB_NAME)
    env = common.bench_env(
        url,
        # Under ASGI Django opens a connection per request thread; persistent ones would pile up.
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

    seeded = seed_sitting(students=args.logins, working=False)
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

    with common.running(
        common.start_uvicorn(env=env, workers=2, health_path="/student/", name="login")
    ) as server:
        results, seconds = asyncio.run(burst(server.base_url, accounts, args.connections))
    latencies = [r for r in results if r is not None]
    common.emit(
        {
            "logins": len(latencies),
            "failed": len(results) - len(latencies),
            "seconds": round(seconds, 2),
            "logins_per_s": round(len(latencies) / seconds, 1),
            "p50_ms": round(common.percentile(latencies, 50) * 1000, 1),
            "p99_ms": round(common.percentile(latencies, 99) * 1000, 1),
            "connections": args.connections,
        }
    )


if __name__ == "__main__":
    main()
