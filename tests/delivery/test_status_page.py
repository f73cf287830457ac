"""The public service-status page, /healthz, and the platform operator's announcements."""

from __future__ import annotations

import pytest
from django.urls import reverse

from delivery import sweeper
from delivery.models import Announcement
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.delivery.attempt_helpers import make_sitting
from tests.factories import UserFactory


@pytest.fixture
def operator(db):
    return UserFactory(username="operator", is_platform_operator=True)


def test_status_page_is_public_and_reports_each_part(db, client):
    response = client.get(reverse("status"))
    assert response.status_code == 200
    names = [c["name"] for c in response.context["checks"]]
    assert len(names) == 4
    states = {c["state"] for c in response.context["checks"]}
    assert states <= {"ok", "in-process", "down", "unknown"}


def test_healthz_reports_database_and_the_sweepers_last_run(db, client, settings):
    sweeper.sweep_once(mode="in-process")
    body = client.get(reverse("healthz")).json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["web"] == "ok"
    assert body["checks"]["workers"] in ("in-process", "ok")
    if not settings.REDIS_URL:
        assert body["checks"]["redis"] == "in-process"
        assert body["status"] == "ok"


def test_healthz_says_workers_are_down_when_the_sweeper_is_stale(db, client):
    from django.core.cache import cache

    cache.set(sweeper.STAMP_KEY, {"at": 0, "mode": "celery"})
    body = client.get(reverse("healthz")).json()
    assert body["checks"]["workers"] == "down"
    assert body["status"] == "degraded"


def test_operator_posts_an_announcement_shown_on_status_and_as_a_banner(world, operator, client):
    client.force_login(operator)
    response = client.post(
        reverse("status-announcements"),
        {"title": "Slow logins", "body": "We are on it.", "severity": "disruption"},
    )
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert AuditEvent.objects.filter(action="announcement.post").exists()
    client.logout()
    assert "Slow logins" in client.get(reverse("status")).content.decode()
    # the banner on the proctor and IT pages
    sitting = make_sitting(world)
    client.force_login(world.staff[Role.PROCTOR])
    assert (
        "Slow logins"
        in client.get(reverse("proctor-room", args=[sitting.public_id])).content.decode()
    )
    assert (
        "Slow logins"
        in client.get(reverse("it-page", args=[world.unit.public_id])).content.decode()
    )
    # resolved: the banner goes, the status page keeps it for a while
    client.force_login(operator)
    client.post(reverse("status-announcement-resolve", args=[announcement.public_id]))
    client.force_login(world.staff[Role.PROCTOR])
    assert (
        "Slow logins"
        not in client.get(reverse("it-page", args=[world.unit.public_id])).content.decode()
    )
    client.logout()
    assert "Slow logins" in client.get(reverse("status")).content.decode()


@pytest.mark.parametrize("who", ["head", "outsider"])
def test_nobody_but_the_operator_posts_or_resolves(world, operator, client, who):
    announcement = Announcement.objects.create(
        title="Planned maintenance", visible_from="2020-01-01T00:00Z"
    )
    user = world.staff[Role.HEAD_TEACHER] if who == "head" else world.outsider
    client.force_login(user)
    assert client.get(reverse("status-announcements")).status_code == 403
    response = client.post(reverse("status-announcements"), {"title": "Hacked", "severity": "info"})
    assert response.status_code == 403
    resolve = client.post(reverse("status-announcement-resolve", args=[announcement.public_id]))
    assert resolve.status_code == 403
    assert list(Announcement.objects.values_list("title", "severity")) == [
        ("Planned maintenance", "info")
    ]


def test_announcement_services_refuse_a_non_operator(world):
    from django.core.exceptions import PermissionDenied

    from delivery.announcement_services import announcement_post

    with pytest.raises(PermissionDenied):
        announcement_post(actor=world.staff[Role.HEAD_TEACHER], title="x")
