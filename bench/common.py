"""Helpers shared by the benchmarks: a fresh PostgreSQL database, server subprocesses, results.

Servers bind to 127.0.0.1 on a free port and are stopped by their own process id.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def recreate_database(name: str) -> str:
    """Drop and create `name` on the benchmark PostgreSQL server; returns its URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def bench_env(database: str, **extra: str) -> dict[str, str]:
    """Environment for a benchmark server or management command: production-like, quiet."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database,
            "REDIS_URL": REDIS_URL,
            "DEBUG": "false",
            "SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "CHANNELS_PREFIX": f"pp-bench-{os.getpid()}",
            "CACHE_KEY_PREFIX": f"pp-bench-{os.getpid()}",
            "DJANGO_SETTINGS_MODULE": "provplattform.settings",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    extra: dict = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _wait_healthy(server: Server, health_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = server.base_url + health_path
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}; see {server.log_path}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{server.name} did not become healthy; see {server.log_path}")


def start_server(
    argv: Iterable[str],
    *,
    env: dict[str, str],
    name: str,
    port: int | None = None,
    health_path: str = "/",
    timeout: float = 60.0,
) -> Server:
    """Start a server whose argv may contain `{port}`; wait until `health_path` answers < 500."""
    port = port or free_port()
    log_path = Path(f"/tmp/pp-bench-{name}-{os.getpid()}.log")
    log = open(log_path, "w")  # noqa: SIM115 (kept open for the child's lifetime)
    process = subprocess.Popen(
        [a.format(port=port) for a in argv],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(name=name, port=port, process=process, log_path=log_path)
    _wait_healthy(server, health_path, timeout)
    return server


def start_uvicorn(
    *,
    env: dict[str, str],
    workers: int = 2,
    app: str = "provplattform.asgi:application",
    port: int | None = None,
    health_path: str = "/",
    name: str = "uvicorn",
) -> Server:
    return start_server(
        [
            str(BIN / "uvicorn"),
            app,
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        name=name,
        port=port,
        health_path=health_path,
    )


def start_gunicorn(
    *,
    env: dict[str, str],
    workers: int = 2,
    app: str = "provplattform.wsgi:application",
    port: int | None = None,
    health_path: str = "/",
    name: str = "gunicorn",
) -> Server:
    return start_server(
        [
            str(BIN / "gunicorn"),
            app,
            "--bind",
            "127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        env=env,
        name=name,
        port=port,
        health_path=health_path,
    )


@contextmanager
def running(server: Server):
    try:
        yield server
    finally:
        server.stop()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def emit(result: dict) -> None:
    """The last line of every benchmark: one JSON object."""
    print(json.dumps(result), flush=True)
