"""The end-to-end harness: a real database, the real server as a subprocess, a private Redis.

Everything binds to 127.0.0.1. Processes are stopped by their own process id, never by name.
The server is `manage.py serve` (uvicorn with the presence sweeper and automatic submit in the
same process), exactly what `make demo` runs.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
RESULTS = ROOT / "test-results"
SERVER_PORTS = range(18700, 18790)
REDIS_PORTS = range(18790, 18800)
# Heartbeat and grace the e2e servers run with (the settings' defaults, set explicitly).
HEARTBEAT_S = 3
GRACE_S = 4


def free_port(ports: range) -> int:
    """A free port from `ports` (the range this suite may use), else any free port. Tried in a
    random order: other runs on the machine use the same range."""
    for port in random.sample(list(ports), len(ports)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the database ---------------------------------------------------------------------------------


@dataclass
class Database:
    """A database of its own for the e2e run: PostgreSQL beside the test database, or a file
    SQLite database for the embedded default."""

    url: str
    engine: str  # "postgres" | "sqlite"
    admin_url: str = ""
    name: str = ""

    @classmethod
    def for_run(cls, configured_url: str, tmp_dir: Path) -> Database:
        parsed = urllib.parse.urlsplit(configured_url)
        if parsed.scheme in ("postgres", "postgresql", "pgsql"):
            name = parsed.path.lstrip("/") + "_e2e"
            admin = parsed._replace(path="/postgres").geturl()
            return cls(
                url=parsed._replace(path=f"/{name}").geturl(),
                engine="postgres",
                admin_url=admin,
                name=name,
            )
        path = tmp_dir / "e2e.sqlite3"
        return cls(url=f"sqlite:///{path}", engine="sqlite", name=str(path))

    def create(self) -> None:
        if self.engine == "postgres":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{self.name}"')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(self.name + suffix).unlink(missing_ok=True)

    def drop(self) -> None:
        if self.engine == "postgres":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def execute(self, sql: str, params: tuple = ()) -> None:
        """Write with a fresh connection and commit."""
        if self.engine == "postgres":
            import psycopg

            with psycopg.connect(self.url.replace("postgres://", "postgresql://", 1)) as conn:
                conn.execute(sql, params)
            return
        conn = sqlite3.connect(self.name, timeout=20)
        try:
            conn.execute(sql.replace("%s", "?"), params)
            conn.commit()
        finally:
            conn.close()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read with a fresh connection: what any other process would see now."""
        if self.engine == "postgres":
            import psycopg

            with psycopg.connect(self.url.replace("postgres://", "postgresql://", 1)) as conn:
                return conn.execute(sql, params).fetchall()
        conn = sqlite3.connect(self.name, timeout=20)
        try:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()
        finally:
            conn.close()

    # The few reads the tests assert on.

    def _uuid(self, value: str):
        return uuid.UUID(value) if self.engine == "postgres" else uuid.UUID(value).hex

    def responses(self, attempt: str) -> dict[str, tuple[int, object]]:
        """item public id -> (seq, content) held for the attempt."""
        rows = self.query(
            "SELECT i.public_id, r.seq, r.content FROM delivery_response r "
            "JOIN exams_item i ON i.id = r.item_id JOIN delivery_attempt a ON a.id = r.attempt_id "
            "WHERE a.public_id = %s",
            (self._uuid(attempt),),
        )
        held = {}
        for item, seq, content in rows:
            if self.engine == "sqlite":
                content = json.loads(content)
            held[str(uuid.UUID(str(item)))] = (int(seq), content)
        return held

    def attempt_status(self, attempt: str) -> str:
        rows = self.query(
            "SELECT status FROM delivery_attempt WHERE public_id = %s", (self._uuid(attempt),)
        )
        return rows[0][0]

    def flagged(self, attempt: str) -> set[str]:
        """Public ids of the items the attempt holds flagged for review."""
        rows = self.query(
            "SELECT i.public_id FROM delivery_response r JOIN exams_item i ON i.id = r.item_id "
            "JOIN delivery_attempt a ON a.id = r.attempt_id WHERE a.public_id = %s AND r.flagged",
            (self._uuid(attempt),),
        )
        return {str(uuid.UUID(str(item))) for (item,) in rows}

    def deadline_set(self, attempt: str, deadline: datetime.datetime) -> None:
        """Move a started attempt's clock so that it ends at `deadline` (aware), keeping
        deadline = started_at + duration + extended + added + paused."""
        ((total,),) = self.query(
            "SELECT duration_seconds + extended_seconds + added_seconds + paused_seconds "
            "FROM delivery_attempt WHERE public_id = %s",
            (self._uuid(attempt),),
        )
        values = (deadline - datetime.timedelta(seconds=total), deadline)
        if self.engine == "sqlite":  # Django keeps naive UTC text there
            values = tuple(
                v.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(sep=" ") for v in values
            )
        self.execute(
            "UPDATE delivery_attempt SET started_at = %s, deadline = %s WHERE public_id = %s",
            (*values, self._uuid(attempt)),
        )

    def notices(self, sitting: str) -> list[tuple[str, dict]]:
        """(kind, data) of the sitting's notices, oldest first."""
        rows = self.query(
            "SELECT n.kind, n.data FROM delivery_notice n JOIN exams_sitting s "
            "ON s.id = n.sitting_id WHERE s.public_id = %s ORDER BY n.id",
            (self._uuid(sitting),),
        )
        if self.engine == "sqlite":
            rows = [(kind, json.loads(data)) for kind, data in rows]
        return rows


# --- processes ------------------------------------------------------------------------------------


def run_env(database_url: str, *, redis_url: str = "", run_id: str = "") -> dict[str, str]:
    """Environment for the server and management commands of one e2e run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_", "REDIS_", "DATABASE_", "CHANNELS_", "CACHE_"))
    }
    run_id = run_id or f"pp-e2e-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "provplattform.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "true",
            "LOG_LEVEL": "WARNING",
            "LANGUAGE_CODE": "en",
            "CHANNELS_PREFIX": run_id,
            "CACHE_KEY_PREFIX": run_id,
            "PRESENCE_HEARTBEAT_S": str(HEARTBEAT_S),
            "PRESENCE_GRACE_S": str(GRACE_S),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def seed(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [PYTHON, "-m", "tests.e2e.seed"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"seeding failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class ServerProcess:
    """`manage.py serve` on a port of our range; can be killed and started again on that port."""

    env: dict[str, str]
    name: str = "server"
    port: int = field(default_factory=lambda: free_port(SERVER_PORTS))
    process: subprocess.Popen | None = None
    starts: int = 0
    # None: `manage.py serve`; "uvicorn": the production command (docker-compose's web service,
    # one worker, no sweeper inside)
    command: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return RESULTS / f"e2e-{self.name}.log"

    def start(self, timeout: float = 60.0, *, tries: int = 3) -> ServerProcess:
        RESULTS.mkdir(exist_ok=True)
        log = open(self.log_path, "a" if self.starts else "w")  # noqa: SIM115
        log.write(f"\n--- start {self.starts + 1} on port {self.port} ---\n")
        log.flush()
        args = [PYTHON, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.command == "uvicorn":
            args = [PYTHON, "-m", "uvicorn", "provplattform.asgi:application",
                    "--host", "127.0.0.1", "--port", str(self.port),
                    "--timeout-graceful-shutdown", "5"]  # fmt: skip
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.starts += 1
        try:
            self.wait_healthy(timeout)
        except RuntimeError:
            if "address already in use" not in self.log_text()[-2000:] or tries <= 1:
                raise
            # another run took the port meanwhile: the same start on another one
            self.starts -= 1
            self.port = free_port(SERVER_PORTS)
            return self.start(timeout, tries=tries - 1)
        return self

    def _bound(self) -> bool:
        """Our process holds the port: another run's server may answer on it otherwise."""
        text = self.log_text()
        start = text.rfind(f"--- start {self.starts} on port {self.port} ---")
        return start >= 0 and f"running on http://127.0.0.1:{self.port}" in text[start:]

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            if not self._bound():
                time.sleep(0.1)
                continue
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not become healthy; see {self.log_path}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, the way a crashed node goes."""
        if self.running:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if not self.running:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class PrivateRedis:
    """A redis-server of our own (never the shared one), without persistence."""

    port: int = field(default_factory=lambda: free_port(REDIS_PORTS))
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    time.sleep(0.2)  # a server that could not bind exits; another run's answered
                    if self.process.poll() is None:
                        return self
                    self.port = free_port(REDIS_PORTS)
                    return self.start()
            time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


PG_PORTS = range(18800, 18810)
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"  # the server refuses to run as root; the data directory is that user's


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of our own (never the shared one) that a test may stop and start.

    Holds a copy of the e2e database (`copy_from`), so a test changes nothing the others see.
    fsync is off: a stop here is a fast shutdown, never a crash of the machine.
    """

    root: Path
    port: int = field(default_factory=lambda: free_port(PG_PORTS))
    process: subprocess.Popen | None = None
    dbname: str = "pp_outage"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/{self.dbname}"

    def _dsn(self, dbname: str) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{dbname}"

    def init(self) -> PrivatePostgres:
        import shutil

        self.root.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.root, PG_USER)
        subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", PG_USER, "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            check=True, capture_output=True, user=PG_USER,
        )  # fmt: skip
        return self

    def start(self, timeout: float = 30.0) -> PrivatePostgres:
        RESULTS.mkdir(exist_ok=True)
        log = open(RESULTS / "e2e-private-postgres.log", "a")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-k", str(self.root), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, user=PG_USER,
        )  # fmt: skip
        log.close()
        self.wait_ready(timeout)
        if self.process.poll() is not None:  # could not bind: another run's server answered
            self.port = free_port(PG_PORTS)
            return self.start(timeout)
        return self

    def wait_ready(self, timeout: float) -> float:
        """Wait until the server takes connections; the monotonic time it did."""
        import psycopg

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self._dsn("postgres"), connect_timeout=1):
                    return time.monotonic()
            except psycopg.OperationalError:
                time.sleep(0.02)
        raise RuntimeError("private postgres did not start")

    def copy_from(self, source_url: str) -> PrivatePostgres:
        """A copy of another database (the e2e one) under our database name."""
        import psycopg

        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')
        source = source_url.replace("postgres://", "postgresql://", 1)
        dump = subprocess.run(["pg_dump", "--no-owner", source], check=True, capture_output=True)
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", self._dsn(self.dbname)],
            input=dump.stdout, check=True, capture_output=True,
        )  # fmt: skip
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGINT): every connection is ended, as a restart does."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def remove(self) -> None:
        import shutil

        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


# --- HTTP clients as a browser would be ---------------------------------------------------------

CONFIG = re.compile(r'<script id="exam-config" type="application/json">(.*?)</script>', re.S)


def staff_client(base_url: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=10, headers={"Origin": base_url})
    client.get("/login/")
    response = client.post(
        "/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
        headers={"Referer": base_url + "/login/"},
    )
    if response.status_code != 302:
        raise AssertionError(f"staff login failed: {response.status_code}")
    return client


def student_login(base_url: str, student: dict, day_password: str) -> tuple[httpx.Client, dict]:
    """Log in through the student login page and open the test: (client, the exam config)."""
    client = httpx.Client(base_url=base_url, timeout=10)
    client.get("/student/")
    response = client.post(
        "/student/",
        data={
            "username": student["username"],
            "password": student["password"],
            "day_password": day_password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
        headers={"Referer": base_url + "/student/"},
    )
    if response.status_code != 302:
        raise AssertionError(f"student login failed: {response.status_code}")
    page = client.get("/student/test/")
    match = CONFIG.search(page.text)
    if page.status_code != 200 or not match:
        raise AssertionError(f"the test did not open: {page.status_code}")
    return client, json.loads(match.group(1))


def cookie_header(client: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


# --- the exam client in a browser ---------------------------------------------------------------

VIEWPORT = {"width": 1366, "height": 768}


def browser_context(chromium: Browser, **extra) -> BrowserContext:
    extra.setdefault("locale", "en-GB")
    context = chromium.new_context(viewport=VIEWPORT, **extra)
    context.set_default_timeout(15_000)
    return context


def student_login_page(page: Page, base_url: str, student: dict, day_password: str) -> None:
    """Log in through the student login page (username, password, day password)."""
    page.goto(base_url + "/student/")
    page.fill("#id_username", student["username"])
    page.fill("#id_password", student["password"])
    page.fill("#id_day_password", day_password)
    page.click("main button[type=submit]")


def attempt_of(page: Page) -> str:
    return page.evaluate("JSON.parse(document.getElementById('exam-config').textContent).attempt")


def wait_all_saved(page: Page, timeout: float = 20_000) -> None:
    # A function, not an expression: an expression is evaluated with eval, which the CSP forbids.
    page.wait_for_function(
        "() => window.ppExam && window.ppExam.pending().length === 0", timeout=timeout
    )
