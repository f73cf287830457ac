"""What a production server shows of itself: a strict Content-Security-Policy with nothing inline,
offline API docs, no admin unless switched on (and then for operators only), the login page
where a login is needed, translated error pages."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.admin import site as admin_site
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import clear_url_caches
from django.utils import translation

from schools.roles import Role
from tests.factories import UserFactory

TEMPLATE_DIRS = [Path(django_settings.BASE_DIR) / "templates"]
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"),
    "style element": re.compile(r"<style\b"),
    "style attribute": re.compile(r"\sstyle=[\"']"),
    "event handler attribute": re.compile(r"\son[a-z]+=[\"']"),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def _templates() -> list[Path]:
    return sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html"))


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATE_DIRS[0])))
def test_no_template_has_inline_script_or_style(path):
    text = path.read_text(encoding="utf-8")
    found = [name for name, pattern in INLINE.items() if pattern.search(text)]
    assert found == []


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()
    }


@pytest.mark.parametrize(
    "path", ["/login/", "/student/", "/status/", "/api/docs/", "/no-such-page/"]
)
def test_every_page_sends_a_policy_without_inline_code(client, db, path):
    response = client.get(path)
    policy = _policy(response)
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'"


def test_staff_pages_send_the_policy_too(client, world):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    for path in (
        f"/units/{world.unit.public_id}/",
        f"/units/{world.unit.public_id}/prepare/readiness/",
        f"/units/{world.unit.public_id}/prepare/readiness/print/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert _policy(response)["script-src"] == "'self'", path


def test_the_api_docs_load_swagger_ui_from_this_server(client, db):
    page = client.get("/api/docs/").content.decode()
    assert "cdn." not in page and "unpkg" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def _reload_urls():
    import provplattform.urls

    clear_url_caches()
    importlib.reload(provplattform.urls)
    clear_url_caches()


@pytest.fixture
def production_urls(settings):
    settings.ADMIN_ENABLED = False
    _reload_urls()
    yield
    settings.ADMIN_ENABLED = True
    _reload_urls()


def test_the_admin_is_off_unless_switched_on(client, db, production_urls):
    operator = UserFactory(username="op", is_platform_operator=True, is_staff=True)
    client.force_login(operator)
    assert client.get("/admin/").status_code == 404


def test_only_platform_operators_may_enter_the_admin(rf, db):
    staff = UserFactory(username="staffer", is_staff=True, is_superuser=True)
    operator = UserFactory(username="op", is_staff=True, is_platform_operator=True)
    request = rf.get("/admin/")
    request.user = staff
    assert not admin_site.has_permission(request)
    request.user = operator
    assert admin_site.has_permission(request)


def test_login_slips_send_a_logged_out_visitor_to_the_login_page(client, world):
    from tests.delivery.attempt_helpers import make_sitting

    sitting = make_sitting(world)
    response = client.get(f"/sittings/{sitting.public_id}/login-slips/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/sittings/")
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.configured_language
def test_the_not_found_page_is_translated(client, db):
    response = client.get("/no-such-page/", headers={"Accept-Language": "sv"})
    assert response.status_code == 404
    assert "Hittades inte" in response.content.decode()


@pytest.mark.configured_language
@pytest.mark.parametrize(("language", "title"), [("sv", "Något gick fel"), ("nb", "Noe gikk galt")])
def test_the_server_error_page_is_translated(language, title):
    with translation.override(language):
        page = render_to_string("500.html", request=RequestFactory().get("/"))
    assert title in page
