"""Session fixtures of the end-to-end suite: a seeded database and the real server.

- `e2e` — a database of its own (PostgreSQL `<test db>_e2e` when DATABASE_URL is PostgreSQL, a
  file SQLite database otherwise), migrated and seeded by tests/e2e/seed.py in a subprocess.
- `e2e_server` — `manage.py serve` on 127.0.0.1 (uvicorn + presence sweeper + automatic submit)
  against that database, with the run's REDIS_URL (channels_redis, Redis presence store and
  cache) under a unique channel and key prefix, or the in-memory layer in the embedded default.
- `chromium` — Debian's Chromium driven by Playwright (never a downloaded browser).

Fault tests start their own servers on the same database with `e2e.server(...)`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.e2e.harness import Database, ServerProcess, manage, run_env, seed

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class E2E:
    db: Database
    data: dict
    redis_url: str

    def env(self, *, redis_url: str | None = None) -> dict[str, str]:
        return run_env(self.db.url, redis_url=self.redis_url if redis_url is None else redis_url)

    def server(self, name: str, *, redis_url: str | None = None) -> ServerProcess:
        return ServerProcess(env=self.env(redis_url=redis_url), name=name)


@pytest.fixture(scope="session")
def e2e(tmp_path_factory) -> E2E:
    configured = os.environ.get("DATABASE_URL", "")
    db = Database.for_run(configured, Path(tmp_path_factory.mktemp("e2e")))
    db.create()
    run = E2E(db=db, data={}, redis_url=os.environ.get("REDIS_URL", ""))
    env = run.env()
    manage(env, "migrate", "--noinput")
    run.data = seed(env)
    yield run
    db.drop()


@pytest.fixture(scope="session")
def e2e_server(e2e):
    server = e2e.server("browser").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if settings.USING_POSTGRES or os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium package")
        pytest.skip(f"embedded run without {CHROMIUM} (apt-get install chromium to run it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if not found:
        if settings.USING_POSTGRES or os.environ.get("CI"):
            pytest.fail("redis-server is missing; the Redis outage test starts a private one")
        pytest.skip("embedded run without redis-server (apt-get install redis-server)")
    return found


@pytest.fixture(autouse=True, scope="session")
def _quiet_http_client_logs():
    """Thousands of saves: the client's per-request log lines are noise."""
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
