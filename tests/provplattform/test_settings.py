"""Settings come from the environment; production mode refuses to start misconfigured."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_check(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(env_overrides)
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _run_check({"DEBUG": "false", "ALLOWED_HOSTS": "school.example"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _run_check({"DEBUG": "false", "SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_an_unknown_http_bridge_is_refused_with_its_name():
    result = _run_check({"WEB_HTTP_BRIDGE": "gunicorn"})
    assert result.returncode != 0
    assert "WEB_HTTP_BRIDGE must be" in result.stderr


def test_bad_boolean_is_refused_with_its_name():
    result = _run_check({"DEBUG": "perhaps"})
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_deploy_check_is_clean_in_production_mode():
    result = _run_check(
        {
            "DEBUG": "false",
            "SECRET_KEY": "k3y-" + "a1B2c3D4e5" * 6,
            "ALLOWED_HOSTS": "school.example",
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_embedded_default_needs_no_configuration(settings):
    # With nothing set the project runs on SQLite with an in-memory channel layer.
    result = _run_check({})
    assert result.returncode == 0, result.stderr
