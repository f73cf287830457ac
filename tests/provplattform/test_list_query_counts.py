"""Every list page and list endpoint, found by walking the URL configuration (so a new list is
covered the day it is added), runs the same number of queries for a unit with twice as much in it:
no query per row. A list page that legitimately grows (none today) would go into `GROWS`, with why.

A list is a route a GET answers with only the school unit in its path (pages and API) or with
nothing in its path.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver

from exams.models import Programme
from schools.models import OrganiserAdministrator
from schools.roles import Role
from schools.transfer.tokens import api_token_create
from tests.factories import SubtestFactory, UserFactory
from tests.world import seed_unit

pytestmark = pytest.mark.django_db

# Not lists of tenant data: Django's admin, sign-in and password pages, the schema, static files,
# the health check, the student's own exam pages.
OUTSIDE = (
    "admin/",
    "accounts/",
    "password-reset",
    "api/schema",
    "^media/",
    "i18n/",
    "healthz",
    "student/",
    "exam/",
    "logout",
)
GROWS: dict[str, str] = {}
# Lists none of the callers here may read, with who can.
UNREAD: dict[str, str] = {
    "api-transfer-submit": "POST only: the organiser's system sends a transfer",
    "api-exams-readiness-acknowledge": "POST only",
    "unit-role-assign": "POST only",
    "unit-role-remove": "POST only",
    "api-results-follow-up-answer": "POST only: the school answers a follow-up request",
    "results-follow-up-answer": "POST only: the school answers a follow-up request",
    "api-second-markings": "POST only: the lead sends a sample for second marking",
    "api-entry-uploads": "POST only: a filled-in entry form is uploaded",
    "exams-operator-import-qti": "a form, not a list",
    "exams-operator-upload": "a form, not a list",
    "home": "redirects to the user's start page",
    "login": "redirects a signed-in user",
}


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _lists() -> list[tuple[str, str]]:
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(OUTSIDE) or route.count("<") != route.count("<uuid:unit>"):
            continue
        if route.count("<") > 1 or "(?P" in route:
            continue
        found.append((pattern.name or route, route))
    return found


LISTS = _lists()


def _seed_more(world, times: int) -> None:
    subtest = SubtestFactory()
    norwegian = SubtestFactory(test__programme=Programme.NO_MAPPING)
    for _ in range(times):
        seed_unit(world.unit, subtest, norwegian)


@pytest.fixture(scope="module")
def lists_world(shared_world):
    world = shared_world
    world.organiser_admin = UserFactory(username="organiser-admin")
    world.operator = UserFactory(username="operator", is_platform_operator=True)
    OrganiserAdministrator.objects.create(
        user=world.organiser_admin, organiser=world.unit.organiser
    )
    _token, world.organiser_token = api_token_create(organiser=world.unit.organiser, name="Lists")
    _seed_more(world, 2)
    return world


def _queries(client, path: str, headers: dict) -> tuple[int, int]:
    client.get(path, **headers)  # anything made on the first read (a day password) is made now
    with CaptureQueriesContext(connection) as captured:
        status = client.get(path, **headers).status_code
    return status, len(captured)


def _callers(world, route: str) -> dict:
    """Who reads the list, with the headers to send: the organiser's API token reads the
    transfer API; staff sign in for everything else."""
    if route.startswith("api/v1/transfer/"):
        token = {"HTTP_AUTHORIZATION": f"Bearer {world.organiser_token}"}
        return {"organiser token": (None, token)}
    return {
        "head teacher": (world.staff[Role.HEAD_TEACHER], {}),
        "organiser admin": (world.organiser_admin, {}),
        "platform operator": (world.operator, {}),
    }


def test_the_walk_finds_the_list_pages_and_endpoints():
    names = {name for name, _route in LISTS}
    assert {"exams-readiness", "exams-sittings", "api-exams-sittings", "unit-dashboard"} <= names


@pytest.mark.parametrize(("name", "route"), LISTS, ids=[n for n, _r in LISTS])
def test_a_list_runs_as_many_queries_for_twice_the_rows(lists_world, client, name, route):
    path = "/" + route.replace("<uuid:unit>", str(lists_world.unit.public_id))
    read = 0
    for who, (user, headers) in _callers(lists_world, route).items():
        if user is not None:
            client.force_login(user)
        # given the unit's lists with two of everything
        status, before = _queries(client, path, headers)
        if status != 200:
            continue
        read += 1
        # when the unit holds four of everything
        _seed_more(lists_world, 2)
        _status, after = _queries(client, path, headers)
        # then the list costs the same
        if name not in GROWS:
            assert after == before, f"{path} as {who}: {before} queries, then {after}"
    # A list nobody could read would pass unchecked.
    assert read or name in UNREAD, f"{path}: no caller could read it; say why in UNREAD"
