"""Every school-unit route of the API, found by walking the URL configuration (so a new endpoint
is covered the day it is added): another school unit answers 404 — never 403, never data — and
no list of one's own unit carries an object of another unit."""

from __future__ import annotations

import uuid

import pytest
from django.apps import apps
from django.urls import URLResolver, get_resolver

from schools.models import Person
from schools.roles import Role
from schools.services import role_assign
from tests.factories import RoomFactory, TeachingGroupFactory, staff_member, student

API_PREFIX = "api/v1/"


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _unit_routes() -> list[tuple[str, str]]:
    return [
        (pattern.name, route)
        for route, pattern in _walk(get_resolver().url_patterns)
        if route.startswith(API_PREFIX) and "<uuid:unit>" in route
    ]


UNIT_ROUTES = _unit_routes()
# Routes whose only argument is the unit: lists (and single views) of the unit itself.
UNIT_LISTS = [(name, route) for name, route in UNIT_ROUTES if route.count("<") == 1]


def _path(route: str, unit) -> str:
    path = route.replace("<uuid:unit>", str(unit.public_id))
    while "<uuid:" in path:
        start = path.index("<uuid:")
        path = path[:start] + str(uuid.uuid4()) + path[path.index(">", start) + 1 :]
    return "/" + path


@pytest.fixture
def populated(world):
    """Every other unit holds staff with roles, groups, students and rooms, so leaks would show."""
    for unit in (world.sibling_unit, world.other_org_unit, world.other_org_unit_2):
        member = staff_member(unit, duty_role="Lärare")
        role_assign(actor=None, person=member.person, school_unit=unit, role=Role.TEACHER)
        group = TeachingGroupFactory(school_unit=unit)
        group.members.add(student(unit))
        group.teachers.add(member.person)
        RoomFactory(school_unit=unit)
    RoomFactory(school_unit=world.unit)
    return world


def _foreign_public_ids(world) -> set[str]:
    """Public ids of every stored object that belongs to a school unit other than world.unit."""
    ids: set[str] = set()
    for model in apps.get_models():
        names = {f.name for f in model._meta.get_fields()}
        if "public_id" not in names:
            continue
        if model._meta.label == "schools.SchoolUnit":
            rows = model.objects.exclude(pk=world.unit.pk)
        elif "school_unit" in names:
            rows = model.objects.exclude(school_unit=world.unit)
        else:
            continue
        ids |= {str(v) for v in rows.values_list("public_id", flat=True)}
    here = Person.objects.filter(enrolments__school_unit=world.unit) | Person.objects.filter(
        duties__school_unit=world.unit
    )
    ids |= {
        str(v)
        for v in Person.objects.exclude(pk__in=here.values("pk")).values_list(
            "public_id", flat=True
        )
    }
    return ids


def test_the_walk_finds_the_unit_routes_of_every_app():
    names = {name for name, _route in UNIT_ROUTES}
    assert {"api-unit-students", "api-unit-role-assignment", "api-exams-rooms"} <= names


@pytest.mark.parametrize(("name", "route"), UNIT_ROUTES, ids=[n for n, _r in UNIT_ROUTES])
@pytest.mark.parametrize("place", ["sibling_unit", "other_org_unit"])
def test_another_school_unit_answers_404_on_every_route(populated, client, name, route, place):
    # given the head teacher of world.unit, who holds every capability there
    client.force_login(populated.staff[Role.HEAD_TEACHER])
    path = _path(route, getattr(populated, place))
    # when they read or write at another school unit
    reads = client.get(path)
    writes = client.post(path, data={}, content_type="application/json")
    deletes = client.delete(path)
    # then the unit is not found (a method the route lacks may say so, the same for every unit)
    for response in (reads, writes, deletes):
        assert response.status_code in (404, 405), (name, response.status_code)
    assert reads.status_code == 404 or writes.status_code == 404


@pytest.mark.parametrize(("name", "route"), UNIT_LISTS, ids=[n for n, _r in UNIT_LISTS])
@pytest.mark.parametrize("role", list(Role))
def test_no_list_of_ones_own_unit_carries_objects_of_another_unit(
    populated, client, name, route, role
):
    client.force_login(populated.staff[role])
    foreign = _foreign_public_ids(populated)
    assert foreign

    response = client.get(_path(route, populated.unit))

    assert response.status_code in (200, 403, 404, 405), (name, response.status_code)
    body = response.content.decode()
    assert not [i for i in foreign if i in body], name
