"""Every route with an object in its path, pages and API alike, found by walking the URL
configuration (so a route is covered the day it is added): called with an object of another school
unit or of another organiser, it answers 404 to every method — never 403, never data, never a
change. A route whose argument the walk cannot name fails `test_every_object_route_is_known`
until its kind is added to `ARGUMENT_KINDS` (and seeded in `_seed_unit`) or, for data that belongs
to no school unit, to `NOT_TENANT_DATA` with the reason.

The sockets have their own walk: tests/delivery/test_socket_isolation.py.
"""

from __future__ import annotations

import itertools
import re

import pytest
from django.urls import URLResolver, get_resolver

from exams.models import Programme
from schools.models import (
    OrganiserAdministrator,
)
from schools.roles import Role
from schools.transfer.tokens import api_token_create
from tests.factories import (
    SubtestFactory,
    UserFactory,
)
from tests.world import seed_unit

pytestmark = pytest.mark.django_db

# Django's own pages and the password reset link carry no object of ours.
OUTSIDE = ("admin/", "password-reset/", "^media/")

# What each argument names, by the path segment before it ("" for the first segment).
ARGUMENT_KINDS = {
    "<uuid:unit>": "unit",
    "rooms/<uuid:room>": "room",
    "assignments/<uuid:assignment>": "assignment",
    "role-assignments/<uuid:assignment>": "role_assignment",
    "sittings/<uuid:sitting>": "sitting",
    "students/<uuid:student>": "student",
    "proctors/<uuid:person>": "proctor",
    "adjustments/<uuid:adjustment>": "adjustment",
    "exemptions/<uuid:exemption>": "exemption",
    "runs/<uuid:public_id>": "transfer_run",
    "tokens/<uuid:public_id>": "token",
    "attempts/<uuid:attempt>": "attempt",
    "groups/<uuid:group>": "group",
    "entries/<uuid:group>": "group",
    "students/<uuid:person>": "student",
    "grading/<uuid:subtest>": "grading_subtest",
    "subtests/<uuid:subtest>": "grading_subtest",
    "scores/<uuid:score>": "score",
    "desk/<uuid:score>": "score",
    "machine-scores/<uuid:score>": "machine_score",
    "second-markings/<uuid:marking>": "second_marking",
    "second-marking/<uuid:marking>": "second_marking",
    "mine/<uuid:marking>": "second_marking",
    "uploads/<uuid:entry_import>": "entry_import",
    "results/<uuid:result_set>": "result_set",
    "measures/<uuid:measure>": "measure",
    "jobs/<uuid:job>": "job",
    "organisers/<uuid:organiser>": "organiser",
    "follow-up/<uuid:follow_up>": "follow_up",
    "follow-up/<uuid:public_id>": "follow_up",
}
# Arguments that are words, not objects: a value the route accepts.
WORDS = {"<str:action>": "pause"}
# Kinds an organiser administrator may see at every unit of the organiser: only another
# organiser's object is foreign to them.
ORGANISER_WIDE = {"transfer_run", "token", "organiser", "follow_up"}

NOT_TENANT_DATA = {
    "api-definition": "test definitions are the platform's, shown to every school",
    "api-definition-publish": "the platform operator's alone (tests/exams/test_definitions.py)",
    "api-definition-retire": "the platform operator's alone",
    "api-definition-new-version": "the platform operator's alone",
    "exams-operator-test": "the platform operator's alone (test_definitions_pages.py)",
    "exams-operator-export": "the platform operator's alone",
    "exams-operator-publish": "the platform operator's alone",
    "exams-operator-retire": "the platform operator's alone",
    "exams-operator-new-version": "the platform operator's alone",
    "exams-asset": "a published image at an unguessable address, for students without a login",
    "status-announcement-resolve": "the operator's announcements, shown to everyone",
    "delivery-attempt-saves": "opened by a student's device token, never a staff session "
    "(tests/delivery/test_autosave.py: another attempt's token is refused)",
    "student-audio-play": "an item of the platform's test definitions, played only in the "
    "student's own attempt (tests/delivery/test_listening.py: another test's item is not found)",
    "exams-operator-item-key": "the platform operator's alone "
    "(tests/grading/test_machine_scoring.py)",
}

METHODS = ("get", "post", "patch", "put", "delete")
PLACES = ("sibling_unit", "other_org_unit")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _object_routes() -> list[tuple[str, str]]:
    return [
        (pattern.name or route, route)
        for route, pattern in _walk(get_resolver().url_patterns)
        if "<" in route and not route.startswith(OUTSIDE)
    ]


ALL_OBJECT_ROUTES = _object_routes()
ROUTES = [(n, r) for n, r in ALL_OBJECT_ROUTES if n not in NOT_TENANT_DATA]
ARGUMENT = re.compile(r"<[^>]+>")


def _kinds(route: str) -> list[str | None]:
    """What each argument of the route names, in order (None for a word)."""
    segments = route.strip("/").split("/")
    kinds: list[str | None] = []
    for before, segment in itertools.pairwise(["", *segments]):
        if not ARGUMENT.fullmatch(segment):
            continue
        if segment in WORDS:
            kinds.append(None)
        elif segment in ARGUMENT_KINDS:
            kinds.append(ARGUMENT_KINDS[segment])
        else:
            key = f"{before}/{segment}"
            assert key in ARGUMENT_KINDS, f"{route}: say in ARGUMENT_KINDS what {key} names"
            kinds.append(ARGUMENT_KINDS[key])
    return kinds


def _path(route: str, values: list[str]) -> str:
    path = route
    for value in values:
        path = ARGUMENT.sub(value, path, count=1)
    return "/" + path


def _statuses(client, path, headers: dict) -> list[int]:
    return [
        getattr(client, method)(
            path, data={}, content_type="application/json", **headers
        ).status_code
        for method in METHODS
    ]


@pytest.fixture(scope="module")
def seeded(shared_world):
    """Every unit of the world holds one object of every kind. Callers of world.unit's
    organiser: its head teacher, who holds every capability there; an administrator of the
    organiser; and the organiser's API token."""
    subtest = SubtestFactory()
    norwegian_subtest = SubtestFactory(test__programme=Programme.NO_MAPPING)
    world = shared_world
    walker = world.staff[Role.HEAD_TEACHER]
    world.seeded = {
        place: seed_unit(
            getattr(world, place),
            subtest,
            norwegian_subtest,
            user=walker if place == "unit" else None,
        )
        for place in ("unit", *PLACES)
    }
    world.organiser_admin = UserFactory(username="organiser-admin")
    OrganiserAdministrator.objects.create(
        user=world.organiser_admin, organiser=world.unit.organiser
    )
    _token, world.organiser_token = api_token_create(organiser=world.unit.organiser, name="Walk")
    return world


def _as_caller(client, world, route: str) -> dict:
    """Log in the caller the route is for; the headers to send."""
    if route.startswith("api/v1/transfer/"):
        return {"HTTP_AUTHORIZATION": f"Bearer {world.organiser_token}"}
    if set(_kinds(route)) - {None} <= ORGANISER_WIDE:
        client.force_login(world.organiser_admin)
    else:
        client.force_login(world.staff[Role.HEAD_TEACHER])
    return {}


def _words(route: str) -> list[str]:
    return [WORDS[s] for s in ARGUMENT.findall(route) if s in WORDS]


def _values(route: str, objects: dict, foreign: dict | None = None, chosen=()) -> list[str]:
    """The route's arguments: own objects, foreign ones at the positions `chosen`."""
    words = iter(_words(route))
    return [
        next(words) if kind is None else str((foreign if i in chosen else objects)[kind].public_id)
        for i, kind in enumerate(_kinds(route))
    ]


def _mixed(route: str, own: dict, foreign: dict) -> list[list[str]]:
    """Every way to put at least one foreign object into the route, the rest own."""
    objects = [i for i, kind in enumerate(_kinds(route)) if kind is not None]
    return [
        _values(route, own, foreign, chosen)
        for count in range(1, len(objects) + 1)
        for chosen in itertools.combinations(objects, count)
    ]


def _stamps(objects: dict) -> dict:
    return {
        kind: type(obj).objects.filter(pk=obj.pk).values_list("modified", flat=True).first()
        for kind, obj in objects.items()
    }


def test_every_object_route_is_known():
    assert {"exams-room-delete", "proctor-room", "api-exams-room", "transfer-run"} <= {
        n for n, _r in ROUTES
    }
    for _name, route in ROUTES:
        assert _kinds(route)


@pytest.mark.parametrize(("name", "route"), ROUTES, ids=[n for n, _r in ROUTES])
@pytest.mark.parametrize("place", PLACES)
def test_another_units_or_organisers_object_answers_404_on_every_route(
    seeded, client, name, route, place
):
    kinds = set(_kinds(route)) - {None}
    if place == "sibling_unit" and kinds <= ORGANISER_WIDE:
        pytest.skip("the organiser's administrator may see every unit of the organiser")
    # given a caller with every right at world.unit (or its organiser)
    headers = _as_caller(client, seeded, route)
    own, foreign = seeded.seeded["unit"], seeded.seeded[place]
    before = _stamps(foreign)
    # when they address another unit's objects, alone or through their own unit's objects
    for values in _mixed(route, own, foreign):
        path = _path(route, values)
        statuses = _statuses(client, path, headers)
        # then nothing is found (a method the route lacks may say so) and nothing changes
        assert set(statuses) <= {404, 405} and 404 in statuses, (path, statuses)
    assert _stamps(foreign) == before


@pytest.mark.parametrize(("name", "route"), ROUTES, ids=[n for n, _r in ROUTES])
def test_the_same_route_finds_the_callers_own_objects(seeded, client, name, route):
    # The control of the test above: with their own objects, not every answer is 404/405.
    headers = _as_caller(client, seeded, route)
    statuses = _statuses(client, _path(route, _values(route, seeded.seeded["unit"])), headers)
    assert set(statuses) - {404, 405}, statuses
