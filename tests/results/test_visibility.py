"""Who sees which results: every role × unit and group pages, API and exports × own group,
another group, another unit and another organiser; 404 for what is not theirs."""

import pytest

from schools.models import OrganiserAdministrator
from schools.roles import Role
from schools.services import permissions_sync
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ADMINS = {Role.HEAD_TEACHER, Role.SCHOOL_ADMINISTRATOR, Role.TEST_ADMINISTRATOR}


def _urls(world, sets, unit, group, person):
    rs = sets[unit]
    base = f"/units/{unit.public_id}/results/{rs.public_id}/"
    api = f"/api/v1/units/{unit.public_id}/results/{rs.public_id}/"
    return {
        "unit page": base,
        "group page": f"{base}groups/{group.public_id}/",
        "student page": f"{base}students/{person.public_id}/",
        "unit api": api,
        "group api": f"{api}?group={group.public_id}",
        "student api": f"{api}?student={person.public_id}",
        "unit csv": f"{base}export.csv",
        "unit xlsx": f"{base}export.xlsx",
        "group csv": f"{base}export.csv?group={group.public_id}",
        "group xlsx": f"{base}export.xlsx?group={group.public_id}",
        "student csv": f"{base}export.csv?student={person.public_id}",
    }


def _status(client, url):
    return client.get(url).status_code


def _targets(world):
    return {
        "own group": (world.unit, world.group_a, world.students_a[0]),
        "other group": (world.unit, world.group_b, world.students_b[0]),
    }


def _expected(role, target, kind):
    if role in ADMINS:
        return 200
    if role == Role.TEACHER and target == "own group" and not kind.startswith("unit"):
        return 200
    return 404


@pytest.mark.parametrize("role", list(Role))
def test_role_matrix_at_own_unit(client, world, sat, role):
    client.login(username=world.staff[role].username, password=PASSWORD)
    for target, (unit, group, person) in _targets(world).items():
        for kind, url in _urls(world, sat, unit, group, person).items():
            assert _status(client, url) == _expected(role, target, kind), (role, target, kind)


@pytest.mark.parametrize("role", list(Role))
def test_nobody_sees_another_unit_or_another_organiser(client, world, sat, role):
    client.login(username=world.staff[role].username, password=PASSWORD)
    from tests.factories import TeachingGroupFactory

    for unit, students in (
        (world.sibling_unit, world.sibling_students),
        (world.other_org_unit, world.other_org_students),
    ):
        group = TeachingGroupFactory(school_unit=unit)
        group.members.add(*students)
        for kind, url in _urls(world, sat, unit, group, students[0]).items():
            assert _status(client, url) == 404, (role, unit.name, kind)
        # nor a student of another unit through their own unit's result set
        own = _urls(world, sat, world.unit, world.group_a, students[0])
        assert _status(client, own["student page"]) == 404
        assert _status(client, own["student api"]) == 404


def test_teacher_who_left_the_group_no_longer_sees_it(client, world, sat):
    teacher = world.staff[Role.TEACHER]
    world.group_a.teachers.remove(teacher.person)
    permissions_sync(person=teacher.person, school_unit=world.unit)
    client.login(username=teacher.username, password=PASSWORD)
    for kind, url in _urls(world, sat, world.unit, world.group_a, world.students_a[0]).items():
        assert _status(client, url) == 404, kind
    assert _status(client, f"/units/{world.unit.public_id}/results/") == 404


def test_teacher_lists_show_only_own_groups_students(client, world, sat):
    client.login(username=world.staff[Role.TEACHER].username, password=PASSWORD)
    rs = sat[world.unit]
    body = client.get(f"/units/{world.unit.public_id}/results/").content.decode()
    assert world.group_a.name in body and world.group_b.name not in body
    data = client.get(
        f"/api/v1/units/{world.unit.public_id}/results/{rs.public_id}/?group={world.group_a.public_id}"
    ).json()
    assert {s["student"] for s in data["students"]} == {str(p.public_id) for p in world.students_a}


def test_organiser_administrator_and_outsider_see_no_results(client, world, sat):
    admin = world.outsider
    OrganiserAdministrator.objects.create(user=admin, organiser=world.unit.organiser)
    client.login(username=admin.username, password=PASSWORD)
    for kind, url in _urls(world, sat, world.unit, world.group_a, world.students_a[0]).items():
        assert _status(client, url) == 404, kind
    assert _status(client, f"/api/v1/units/{world.unit.public_id}/results/") == 404


def test_head_teacher_of_sibling_unit_sees_only_their_unit(client, world, sat):
    client.login(username=world.sibling_head.username, password=PASSWORD)
    rs = sat[world.sibling_unit]
    assert _status(client, f"/units/{world.sibling_unit.public_id}/results/{rs.public_id}/") == 200
    assert _status(client, f"/units/{world.unit.public_id}/results/{rs.public_id}/") == 404
    other = sat[world.unit]
    assert (
        _status(client, f"/units/{world.sibling_unit.public_id}/results/{other.public_id}/") == 404
    )


def test_platform_operator_sees_nothing_personal(client, world, sat):
    from tests.factories import UserFactory

    operator = UserFactory(is_platform_operator=True)
    client.login(username=operator.username, password=PASSWORD)
    for kind, url in _urls(world, sat, world.unit, world.group_a, world.students_a[0]).items():
        assert _status(client, url) == 404, kind
    assert _status(client, "/follow-up/") == 404


def test_teacher_lists_only_tests_their_students_have_results_of(client, world, sat):
    from results.services import results_compute
    from tests.results.helpers import mapping_test, score, sit

    # a test only group B sat
    other = mapping_test()
    first, _ = other.subtests.order_by("position")
    for attempt in sit(world.unit, first, world.students_b):
        score(attempt, [1] * 5)
    hidden = results_compute(school_unit=world.unit, test=other)
    client.login(username=world.staff[Role.TEACHER].username, password=PASSWORD)
    listed = client.get(f"/api/v1/units/{world.unit.public_id}/results/").json()
    assert [r["id"] for r in listed] == [str(sat[world.unit].public_id)]
    base = f"/units/{world.unit.public_id}/results/{hidden.public_id}/"
    assert _status(client, f"{base}groups/{world.group_a.public_id}/") == 404
    client.login(username=world.staff[Role.HEAD_TEACHER].username, password=PASSWORD)
    listed = client.get(f"/api/v1/units/{world.unit.public_id}/results/").json()
    assert {r["id"] for r in listed} == {str(sat[world.unit].public_id), str(hidden.public_id)}
