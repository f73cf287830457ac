"""Every school-unit route of the API, found by walking the URL configuration (so a new endpoint
is covered the day it is added): another school unit answers 404 — never 403, never data — and
no list of one's own unit carries an object of another unit."""

from __future__ import annotations

import itertools
import uuid

import pytest
from django.apps import apps
from django.urls import URLResolver, get_resolver

from delivery.models import Attempt, AttemptStatus
from exams.day_passwords import display
from exams.models import DayPassword, Programme, SittingProctor, SittingStatus, SittingStudent
from grading.models import GradingAssignment, GradingPlan, Score
from schools.models import Person, RoleAssignment, User
from schools.roles import Role
from schools.services import role_assign
from tests.factories import (
    AdjustmentFactory,
    AssignmentFactory,
    DayPasswordFactory,
    DutyFactory,
    ExemptionFactory,
    PaperReplacementFactory,
    RegistrationFactory,
    SittingFactory,
    SubtestFactory,
    TeachingGroupFactory,
    staff_member,
    student,
)
from tests.grading.desk_helpers import seed_desk_objects
from tests.grading.helpers import grading_sitting, submitted_attempt

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


METHODS = ("get", "post", "patch", "put", "delete")


def _call_every_method(client, path) -> list[int]:
    return [
        getattr(client, method)(path, data={}, content_type="application/json").status_code
        for method in METHODS
    ]


def _path(route: str, unit) -> str:
    path = route.replace("<uuid:unit>", str(unit.public_id))
    while "<uuid:" in path:
        start = path.index("<uuid:")
        path = path[:start] + str(uuid.uuid4()) + path[path.index(">", start) + 1 :]
    return "/" + path


def _seed_unit(unit, subtest, norwegian_subtest) -> dict:
    """Staff with a role, a group, students, a room and every exams object a list could show."""
    member = staff_member(unit, duty_role="Rektor")
    role_assign(actor=None, person=member.person, school_unit=unit, role=Role.HEAD_TEACHER)
    group = TeachingGroupFactory(school_unit=unit)
    pupil = student(unit)
    group.members.add(pupil)
    group.teachers.add(member.person)
    sitting = SittingFactory(school_unit=unit, subtest=subtest)
    SittingStudent.objects.create(sitting=sitting, person=pupil)
    SittingProctor.objects.create(sitting=sitting, person=member.person)
    attempt = Attempt.objects.create(sitting=sitting, person=pupil, status=AttemptStatus.PAUSED)
    # A student absent from an ended sitting: who still has to sit.
    absent = student(unit)
    AssignmentFactory(school_unit=unit, subtest=subtest, person=absent)
    ended = SittingFactory(school_unit=unit, subtest=subtest, status=SittingStatus.ENDED)
    SittingStudent.objects.create(sitting=ended, person=absent)
    grading = grading_sitting(unit, essays=1)
    submitted_attempt(grading, pupil)
    score = Score.objects.get(attempt__sitting=grading, item__identifier="essay0")
    plan = GradingPlan.objects.create(school_unit=unit, subtest=grading.subtest)
    GradingAssignment.objects.create(plan=plan, score=score, assessor=member.person)
    return {
        "absent": absent,
        "attempt": attempt,
        "grading_subtest": grading.subtest,
        "score": score,
        "assignment": AssignmentFactory(school_unit=unit, subtest=subtest, person=pupil),
        "sitting": sitting,
        "student": pupil,
        "proctor": member.person,
        "room": sitting.room,
        "role_assignment": RoleAssignment.objects.get(person=member.person, school_unit=unit),
        "registration": RegistrationFactory(school_unit=unit),
        "adjustment": AdjustmentFactory(
            school_unit=unit, person=pupil, test=subtest.test, decided_by=member.person
        ),
        "exemption": ExemptionFactory(
            school_unit=unit, test=norwegian_subtest.test, decided_by=member.person
        ),
        "paper_replacement": PaperReplacementFactory(school_unit=unit, subtest=subtest),
        "day_password": DayPasswordFactory(school_unit=unit),
        **_seed_results(unit, subtest, pupil),
    }


def _seed_results(unit, subtest, pupil) -> dict:
    """A result set and a measure of the unit (results app)."""
    from results.models import Measure, MeasureKind, ResultSet

    result_set = ResultSet.objects.create(school_unit=unit, test=subtest.test)
    kind = MeasureKind.objects.filter(organiser__isnull=True).first()
    measure = Measure.objects.create(
        school_unit=unit, person=pupil, subtest=subtest, kind=kind, starts_on="2027-04-01"
    )
    return {"result_set": result_set, "measure": measure}


pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def populated(shared_world):
    """Every unit — the own one too, so that lists have something to show — holds staff with
    roles, groups, students, rooms, sittings, assignments, registrations, adjustments,
    exemptions, paper replacements and a day password, so leaks would show."""
    world = shared_world
    subtest = SubtestFactory()
    norwegian_subtest = SubtestFactory(test__programme=Programme.NO_MAPPING)
    world.seeded = {
        unit.pk: _seed_unit(unit, subtest, norwegian_subtest)
        for unit in (world.unit, world.sibling_unit, world.other_org_unit, world.other_org_unit_2)
    }
    # The own unit's response is assigned to the head teacher who walks the routes.
    GradingAssignment.objects.filter(score=world.seeded[world.unit.pk]["score"]).update(
        assessor=world.staff[Role.HEAD_TEACHER].person
    )
    for unit_pk, seeded in world.seeded.items():
        user = (
            world.staff[Role.HEAD_TEACHER]
            if unit_pk == world.unit.pk
            else User.objects.get(person=seeded["proctor"])
        )
        seeded.update(seed_desk_objects(seeded["sitting"].school_unit, user=user))
    return world


def _foreign_public_ids(world) -> set[str]:
    """Public ids of every stored object that belongs to a school unit other than world.unit,
    the day passwords of those units, and every person not of world.unit."""
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
    for password in DayPassword.objects.exclude(school_unit=world.unit).values_list(
        "password", flat=True
    ):
        ids |= {password, display(password)}
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
    statuses = _call_every_method(client, path)
    # then the unit is not found (a method the route lacks may say so, the same for every unit)
    assert set(statuses) <= {404, 405} and 404 in statuses, (name, statuses)


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


# Which stored object each argument of a detail route names, by the path segment before it.
DETAIL_OBJECTS = {
    "role-assignments/<uuid:assignment>": "role_assignment",
    "assignments/<uuid:assignment>": "assignment",
    "sittings/<uuid:sitting>": "sitting",
    "attempts/<uuid:attempt>": "attempt",
    "students/<uuid:student>": "student",
    "proctors/<uuid:person>": "proctor",
    "rooms/<uuid:room>": "room",
    "adjustments/<uuid:adjustment>": "adjustment",
    "exemptions/<uuid:exemption>": "exemption",
    "results/<uuid:result_set>": "result_set",
    "measures/<uuid:measure>": "measure",
    "subtests/<uuid:subtest>": "grading_subtest",
    "scores/<uuid:score>": "score",
    "machine-scores/<uuid:score>": "machine_score",
    "second-markings/<uuid:marking>": "second_marking",
    "uploads/<uuid:entry_import>": "entry_import",
}
UNIT_DETAILS = [(name, route) for name, route in UNIT_ROUTES if route.count("<") > 1]


def _seeded_kinds(route: str) -> list[str]:
    """The kind of object each argument after the unit names, in order."""
    segments = route.split("<uuid:unit>/", 1)[1].split("/")
    kinds = []
    for before, segment in itertools.pairwise(segments):
        if segment.startswith("<"):
            key = f"{before}/{segment}"
            assert key in DETAIL_OBJECTS, f"{route}: say in DETAIL_OBJECTS what {key} names"
            kinds.append(DETAIL_OBJECTS[key])
    return kinds


def _detail_path(route: str, unit, objects) -> str:
    path = route.replace("<uuid:unit>", str(unit.public_id))
    for obj in objects:
        start = path.index("<uuid:")
        path = path[:start] + str(obj.public_id) + path[path.index(">", start) + 1 :]
    return "/" + path


def _lists(populated, client, name) -> str:
    route = dict(UNIT_LISTS)[name]
    response = client.get(_path(route, populated.unit))
    assert response.status_code == 200, (name, response.status_code)
    return response.content.decode()


def test_every_seeded_kind_shows_in_the_lists_of_its_own_unit(populated, client):
    # The leak check below could not fail for a list that shows nothing: show it does.
    client.force_login(populated.staff[Role.HEAD_TEACHER])
    own = populated.seeded[populated.unit.pk]
    expected = {
        "api-unit-role-assignments": own["role_assignment"].public_id,
        "api-exams-assignments": own["assignment"].public_id,
        "api-exams-sittings": own["sitting"].public_id,
        "api-exams-registrations": own["registration"].public_id,
        "api-exams-adjustments": own["adjustment"].public_id,
        "api-exams-exemptions": own["exemption"].public_id,
        "api-exams-rooms": own["sitting"].room.public_id,
        "api-unit-students": own["assignment"].person.public_id,
        "api-exams-still-to-sit": own["absent"].public_id,
        "api-desk-scores": own["score"].public_id,
        "api-desk-second-markings": own["second_marking"].public_id,
        "api-grading-subtests": own["grading_subtest"].public_id,
    }
    for name, public_id in expected.items():
        assert str(public_id) in _lists(populated, client, name), name
    shown = _lists(populated, client, "api-exams-day-password")
    assert display(own["day_password"].password) in shown


def test_every_detail_route_names_its_objects():
    assert UNIT_DETAILS
    for _name, route in UNIT_DETAILS:
        assert _seeded_kinds(route)


@pytest.mark.parametrize(("name", "route"), UNIT_DETAILS, ids=[n for n, _r in UNIT_DETAILS])
@pytest.mark.parametrize("place", ["sibling_unit", "other_org_unit"])
def test_own_units_route_with_another_units_object_answers_404(
    populated, client, name, route, place
):
    # given the head teacher of world.unit and real objects of another unit
    client.force_login(populated.staff[Role.HEAD_TEACHER])
    seeded = populated.seeded[getattr(populated, place).pk]
    foreign = [seeded[kind] for kind in _seeded_kinds(route)]
    # when they address them through their own unit's URL, with every method
    statuses = _call_every_method(client, _detail_path(route, populated.unit, foreign))
    # then they are not found, and untouched
    assert set(statuses) <= {404, 405} and 404 in statuses, statuses
    for obj in foreign:
        assert type(obj).objects.filter(pk=obj.pk, modified=obj.modified).exists(), obj


@pytest.mark.parametrize(("name", "route"), UNIT_DETAILS, ids=[n for n, _r in UNIT_DETAILS])
def test_own_units_route_with_its_own_objects_is_found(populated, client, name, route):
    # The control of the test above: the same requests on objects of the unit are not all 404.
    client.force_login(populated.staff[Role.HEAD_TEACHER])
    seeded = populated.seeded[populated.unit.pk]
    own = [seeded[kind] for kind in _seeded_kinds(route)]
    statuses = _call_every_method(client, _detail_path(route, populated.unit, own))
    assert set(statuses) - {404, 405}, statuses


@pytest.mark.parametrize(("name", "route"), UNIT_LISTS, ids=[n for n, _r in UNIT_LISTS])
def test_no_list_carries_objects_of_another_unit_where_the_caller_also_holds_every_right(
    populated, client, name, route
):
    # given a head teacher of both world.unit and its sibling unit (one person, two duties)
    both = staff_member(populated.unit, duty_role="Rektor")
    DutyFactory(person=both.person, school_unit=populated.sibling_unit, duty_role="Rektor")
    for unit in (populated.unit, populated.sibling_unit):
        role_assign(actor=None, person=both.person, school_unit=unit, role=Role.HEAD_TEACHER)
    client.force_login(both)
    foreign = _foreign_public_ids(populated)
    assert str(populated.seeded[populated.sibling_unit.pk]["sitting"].public_id) in foreign
    # when they list world.unit
    response = client.get(_path(route, populated.unit))
    # then nothing of the sibling unit shows, though they may see it there
    assert response.status_code in (200, 405), (name, response.status_code)
    body = response.content.decode()
    assert not [i for i in foreign if i in body], name
