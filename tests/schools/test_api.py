"""The schools API: scoping, leak tests for every list endpoint, role changes, OpenAPI schema."""

import pytest
from django.urls import reverse

from provplattform.models import AuditEvent
from schools.models import RoleAssignment
from schools.roles import Role
from schools.services import role_assign
from tests.factories import PersonFactory, TeachingGroupFactory, staff_member, student

UNIT_LIST_ENDPOINTS = ["students", "staff", "teaching-groups", "role-assignments"]


def _api(unit, name=""):
    return f"/api/v1/units/{unit.public_id}/{name + '/' if name else ''}"


def _ids(response) -> set[str]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row["id"] for row in rows}


@pytest.fixture
def populated(world):
    """Every other unit gets staff with roles, groups and students too, so leaks would show."""
    for unit in (world.sibling_unit, world.other_org_unit, world.other_org_unit_2):
        member = staff_member(unit, duty_role="Lärare")
        role_assign(actor=None, person=member.person, school_unit=unit, role=Role.TEACHER)
        group = TeachingGroupFactory(school_unit=unit)
        group.members.add(student(unit))
        group.teachers.add(member.person)
    return world


def _foreign_ids(world) -> set[str]:
    """Public ids of every object belonging to units other than world.unit."""
    ids = set()
    for unit in (world.sibling_unit, world.other_org_unit, world.other_org_unit_2):
        ids.add(str(unit.public_id))
        ids |= {str(e.person.public_id) for e in unit.enrolments.select_related("person")}
        ids |= {str(d.person.public_id) for d in unit.duties.select_related("person")}
        ids |= {str(g.public_id) for g in unit.teaching_groups.all()}
        ids |= {str(a.public_id) for a in unit.role_assignments.all()}
    # Persons with a duty at world.unit may also work elsewhere; they are legitimately visible.
    ids -= {str(d.person.public_id) for d in world.unit.duties.select_related("person")}
    ids -= {str(e.person.public_id) for e in world.unit.enrolments.select_related("person")}
    return ids


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("endpoint", UNIT_LIST_ENDPOINTS)
def test_list_endpoints_never_return_objects_of_other_school_units(
    populated, client, role, endpoint
):
    world = populated
    client.force_login(world.staff[role])
    foreign = _foreign_ids(world)

    own = client.get(_api(world.unit, endpoint))
    if own.status_code == 200:
        assert not (_ids(own) & foreign)
    else:
        assert own.status_code == 404
    for other in (world.sibling_unit, world.other_org_unit):
        assert client.get(_api(other, endpoint)).status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_school_unit_list_shows_only_units_with_a_role(populated, client, role):
    client.force_login(populated.staff[role])
    assert _ids(client.get("/api/v1/units/")) == {str(populated.unit.public_id)}


def test_outsider_sees_no_unit_and_no_list(populated, client):
    client.force_login(populated.outsider)
    assert _ids(client.get("/api/v1/units/")) == set()
    for endpoint in UNIT_LIST_ENDPOINTS:
        assert client.get(_api(populated.unit, endpoint)).status_code == 404


def test_anonymous_is_refused(world, client):
    assert client.get("/api/v1/units/").status_code == 403


def test_student_list_has_no_civic_numbers_and_minimal_protected_data(world, client):
    world.students_a[0].civic_number = "201001012386"
    world.students_a[0].save()
    world.students_a[1].protected_identity = True
    world.students_a[1].save()
    client.force_login(world.staff[Role.TEACHER])

    response = client.get(_api(world.unit, "students"))

    assert "201001012386" not in response.content.decode()
    # Not even a masked form with the last four digits; ids are random and may hold any digits.
    shown = [str(v) for r in response.json()["results"] for k, v in r.items() if k != "id"]
    assert not [value for value in shown if "2386" in value]
    rows = {r["id"]: r for r in response.json()["results"]}
    assert set(rows[str(world.students_a[1].public_id)]) == {
        "id",
        "given_name",
        "family_name",
        "school_year",
        "protected_identity",
    }
    assert rows[str(world.students_a[1].public_id)]["school_year"] is None
    assert len(rows) == 6


def test_student_search(world, client):
    client.force_login(world.staff[Role.PROCTOR])
    target = world.students_b[0]
    response = client.get(_api(world.unit, "students"), {"search": target.given_name})
    assert _ids(response) == {str(target.public_id)}


def test_staff_list_carries_roles(world, client):
    client.force_login(world.staff[Role.SCHOOL_ADMINISTRATOR])
    rows = client.get(_api(world.unit, "staff")).json()["results"]
    by_id = {r["id"]: r["roles"] for r in rows}
    assert by_id[str(world.staff[Role.PROCTOR].person.public_id)] == ["proctor"]


def test_teaching_groups_list_members_and_teachers(world, client):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    rows = {r["name"]: r for r in client.get(_api(world.unit, "teaching-groups")).json()["results"]}
    assert str(world.staff[Role.TEACHER].person.public_id) in rows["9A"]["teachers"]
    assert {str(p.public_id) for p in world.students_a} == set(rows["9A"]["members"])


def test_list_endpoints_query_count_does_not_grow(world, client, django_assert_max_num_queries):
    for _ in range(30):
        student(world.unit)
        staff_member(world.unit)
    client.force_login(world.staff[Role.HEAD_TEACHER])
    for endpoint in UNIT_LIST_ENDPOINTS:
        with django_assert_max_num_queries(8):
            assert client.get(_api(world.unit, endpoint)).status_code == 200


def test_create_and_delete_role_assignment_is_audited(world, client):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    person = world.staff[Role.OTHER_STAFF].person

    created = client.post(
        _api(world.unit, "role-assignments"),
        {"person": str(person.public_id), "role": "assessor"},
        content_type="application/json",
    )
    assert created.status_code == 201
    deleted = client.delete(_api(world.unit, "role-assignments") + created.json()["id"] + "/")
    assert deleted.status_code == 204

    events = AuditEvent.objects.filter(
        target_id=str(person.public_id), actor=world.staff[Role.HEAD_TEACHER]
    ).order_by("id")
    assert all(e.at is not None and e.scope == world.unit.public_id for e in events)
    assert [(e.action, e.before, e.after) for e in events] == [
        ("role.assign", ["other_staff"], ["assessor", "other_staff"]),
        ("role.remove", ["assessor", "other_staff"], ["other_staff"]),
    ]


def test_test_administrator_cannot_create_test_administrator_and_is_told_why(world, client):
    client.force_login(world.staff[Role.TEST_ADMINISTRATOR])
    response = client.post(
        _api(world.unit, "role-assignments"),
        {
            "person": str(world.staff[Role.OTHER_STAFF].person.public_id),
            "role": "test_administrator",
        },
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["detail"]


def test_role_assignment_of_another_unit_cannot_be_deleted(world, client):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    foreign = RoleAssignment.objects.get(person=world.sibling_head.person)
    response = client.delete(_api(world.unit, "role-assignments") + f"{foreign.public_id}/")
    assert response.status_code == 404
    response = client.delete(_api(world.sibling_unit, "role-assignments") + f"{foreign.public_id}/")
    assert response.status_code == 404
    assert RoleAssignment.objects.filter(pk=foreign.pk).exists()


def test_untransferred_person_is_not_found_through_the_api(world, client):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    substitute = PersonFactory(organiser=world.unit.organiser)
    response = client.post(
        _api(world.unit, "role-assignments"),
        {"person": str(substitute.public_id), "role": "proctor"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not substitute.role_assignments.exists()


def test_person_of_another_unit_is_not_found_through_the_api(world, client):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    elsewhere = world.sibling_head.person
    response = client.post(
        _api(world.unit, "role-assignments"),
        {"person": str(elsewhere.public_id), "role": "proctor"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert elsewhere.family_name not in response.content.decode()
    assert not elsewhere.role_assignments.filter(school_unit=world.unit).exists()


def test_student_of_the_unit_is_refused_a_role_through_the_api_in_words(world, client):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    pupil = world.students_a[0]
    response = client.post(
        _api(world.unit, "role-assignments"),
        {"person": str(pupil.public_id), "role": "proctor"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "not transferred" in response.json()["detail"]
    assert not pupil.role_assignments.exists()


def test_openapi_schema_and_docs_generate(world, client):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    schema = client.get(reverse("api-schema"), {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/units/{unit}/students/" in paths
    assert "/api/v1/units/{unit}/role-assignments/" in paths
    assert client.get(reverse("api-docs")).status_code == 200


def test_openapi_schema_generates_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
