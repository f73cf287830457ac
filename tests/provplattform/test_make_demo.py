"""`make demo` on a copy of the project, with nothing configured, serves the login page.

The copy holds exactly the files git would ship (tracked and not ignored), so a file that exists
only on a developer's machine cannot make this pass. It reuses the installed virtualenv: creating
one is pip's job, not ours, and would only make the test slow.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"


def _shipped_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    return [name for name in listing.stdout.decode().split("\0") if name]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (local URL)
        return response.status, response.read().decode()


@pytest.fixture
def project_copy(tmp_path):
    if not (VENV / ".installed").exists() or shutil.which("git") is None:
        pytest.skip("needs the project's .venv (made by `make test`) and git")
    copy = tmp_path / "provplattform"
    for name in _shipped_files():
        source = ROOT / name
        if source.is_file():
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (copy / ".venv").symlink_to(VENV)
    return copy


def test_make_demo_serves_the_login_page_in_swedish_with_nothing_configured(project_copy):
    # given: no settings at all, as on a fresh machine
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "CELERY_", "DJANGO_", "PROVPLATTFORM_"))
        and key not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "PYTHONPATH"}
    }
    env.update(PORT=str(port), HOST="127.0.0.1")
    # Make's own stamp would be older than the copied pyproject.toml; the venv is installed.
    (project_copy / ".venv" / ".installed").touch()
    process = subprocess.Popen(
        ["make", "demo"],
        cwd=project_copy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        # when: the server has come up
        status, body = 0, ""
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/login/")
                break
            except OSError:
                time.sleep(1)
        # then: the login page answers, in Swedish, and the demo logins were printed
        assert process.poll() is None, "make demo stopped before serving"
        assert status == 200
        assert "Logga in" in body
        assert (project_copy / "db.sqlite3").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert "demo-provplattform" in output
    assert "rektor" in output
