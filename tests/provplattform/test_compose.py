"""docker-compose.yml runs the production-like stack the README promises."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_has_postgres_redis_asgi_web_worker_and_beat():
    services = _compose()["services"]

    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["web"]["command"].startswith("uvicorn provplattform.asgi:application")
    assert "celery -A provplattform worker" in services["worker"]["command"]
    assert "celery -A provplattform beat" in services["beat"]["command"]
    # Silent drops and automatic submit need a sweeper running next to the web nodes.
    assert services["sweeper"]["command"] == "python manage.py presence_sweeper"


def test_app_services_run_in_production_mode_against_postgres_and_redis():
    services = _compose()["services"]
    for name in ("web", "worker", "beat", "sweeper", "migrate"):
        env = services[name]["environment"]
        assert env["DEBUG"] == "false", name
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["REDIS_URL"].startswith("redis://"), name
        assert "SECRET_KEY" in env and "ALLOWED_HOSTS" in env, name
    assert (ROOT / "Dockerfile").is_file()


def test_web_and_celery_start_only_after_the_migration_finished():
    services = _compose()["services"]
    for name in ("web", "worker", "beat", "sweeper"):
        waits_for = services[name]["depends_on"]
        assert waits_for["migrate"] == {"condition": "service_completed_successfully"}, name
        assert waits_for["postgres"] == {"condition": "service_healthy"}, name
        assert waits_for["redis"] == {"condition": "service_healthy"}, name
