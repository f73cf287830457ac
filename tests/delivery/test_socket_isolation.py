"""Every socket route, found by walking the WebSocket URL configuration (so a new socket is
covered the day it is added): called with an object of another school unit or of another
organiser, it refuses the connection, so nobody joins another unit's group. A route whose
argument the walk cannot name fails `test_every_socket_route_is_known`.

The pages and the API have their own walk: tests/provplattform/test_route_isolation.py.
"""

from __future__ import annotations

import re

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.urls import URLResolver

from delivery.models import Attempt
from provplattform.routing import websocket_urlpatterns
from schools.roles import Role
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt
from tests.delivery.presence_helpers import store  # noqa: F401
from tests.delivery.test_consumers import socket, staff_cookie, student_cookie

ARGUMENT = re.compile(r"<[^>]+>")
ARGUMENT_KINDS = {"<uuid:attempt>": "attempt", "<uuid:sitting>": "sitting", "<uuid:unit>": "unit"}
# Who opens each socket: the student of the attempt, or staff with every right at the unit.
STUDENT_SOCKETS = {"attempt"}
PLACES = ("sibling_unit", "other_org_unit")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


ROUTES = [route for route in _walk(websocket_urlpatterns) if "<" in route]


def _kinds(route: str) -> list[str]:
    kinds = []
    for argument in ARGUMENT.findall(route):
        assert argument in ARGUMENT_KINDS, f"{route}: say in ARGUMENT_KINDS what {argument} names"
        kinds.append(ARGUMENT_KINDS[argument])
    return kinds


def _path(route: str, objects: dict) -> str:
    path = route
    for kind in _kinds(route):
        path = ARGUMENT.sub(str(objects[kind].public_id), path, count=1)
    return "/" + path


def _objects_at(world, unit) -> dict:
    sitting = make_sitting(world, unit=unit, students=[])
    return {"unit": unit, "sitting": sitting}


@pytest.fixture
def places(world, store, transactional_db):  # noqa: F811
    """world.unit's sitting with a started attempt, and a sitting with an attempt at each other
    place; the cookies of the attempt's student and of the unit's head teacher."""
    with time_machine.travel(local_at(10), tick=True):
        own = _objects_at(world, world.unit)
        own["sitting"].placements.create(person=world.students_a[0])
        attempt, token = started_attempt(world, own["sitting"], world.students_a[0])
        own["attempt"] = attempt
        found = {"unit": own}
        for place in PLACES:
            unit = getattr(world, place)
            objects = _objects_at(world, unit)
            person = (
                world.sibling_students if place == "sibling_unit" else world.other_org_students
            )[0]
            objects["attempt"] = Attempt.objects.create(sitting=objects["sitting"], person=person)
            found[place] = objects
        cookies = {
            "student": student_cookie(attempt, token),
            "staff": staff_cookie(world.staff[Role.HEAD_TEACHER]),
        }
        yield found, cookies


def _cookie(route: str, cookies: dict) -> bytes:
    return cookies["student" if set(_kinds(route)) & STUDENT_SOCKETS else "staff"]


async def _connects(path: str, cookie: bytes) -> bool:
    ws = socket(path, cookie)
    connected, _ = await ws.connect()
    await ws.disconnect()
    return connected


def test_every_socket_route_is_known():
    assert {"ws/attempt/<uuid:attempt>/", "ws/sitting/<uuid:sitting>/"} <= set(ROUTES)
    for route in ROUTES:
        assert _kinds(route)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("place", PLACES)
def test_a_socket_for_another_units_object_is_refused(places, route, place):
    found, cookies = places
    path = _path(route, found[place])

    assert not async_to_sync(_connects)(path, _cookie(route, cookies)), path


@pytest.mark.parametrize("route", ROUTES)
def test_a_socket_for_the_callers_own_object_connects(places, route):
    # The control of the test above: the same caller joins their own unit's socket.
    found, cookies = places
    path = _path(route, found["unit"])

    assert async_to_sync(_connects)(path, _cookie(route, cookies)), path
