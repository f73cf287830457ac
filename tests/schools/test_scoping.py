"""Object permissions live in guardian's direct-foreign-key tables, kept equal to the role table by
the role services, and list queries are scoped by one subquery on them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.core import ObjectPermissionChecker
from guardian.models import UserObjectPermission
from guardian.utils import get_user_obj_perms_model

from schools.models import (
    SchoolUnit,
    SchoolUnitUserObjectPermission,
    TeachingGroup,
    TeachingGroupUserObjectPermission,
)
from schools.roles import Capability, Role, capabilities_of
from schools.selectors import scope_to_school_units, students_of
from schools.services import role_assign, role_remove
from tests.factories import DutyFactory, SchoolUnitFactory, TeachingGroupFactory


def _held(user, unit) -> set[str]:
    return set(
        SchoolUnitUserObjectPermission.objects.filter(user=user, content_object=unit).values_list(
            "permission__codename", flat=True
        )
    )


def test_guardian_uses_the_direct_foreign_key_tables(world):
    assert get_user_obj_perms_model(world.unit) is SchoolUnitUserObjectPermission
    assert get_user_obj_perms_model(world.group_a) is TeachingGroupUserObjectPermission
    assert SchoolUnitUserObjectPermission.objects.exists()
    assert not UserObjectPermission.objects.exists()  # the generic table stays empty


@pytest.mark.parametrize("role", list(Role))
def test_guardian_answers_what_the_role_table_says(world, role):
    user = world.staff[role]
    checker = ObjectPermissionChecker(user)
    for capability in Capability:
        if capability is Capability.VIEW_GROUP_RESULTS:
            continue  # also a group-level permission; see test_roles_doc
        expected = capability in capabilities_of(role)
        assert checker.has_perm(capability.value, world.unit) is expected, capability
        assert user.has_perm(f"schools.{capability.value}", world.unit) is expected, capability
        assert checker.has_perm(capability.value, world.sibling_unit) is False


def test_assigning_and_removing_keeps_the_tables_equal_to_the_role_table(world):
    person = world.staff[Role.OTHER_STAFF].person
    user = world.staff[Role.OTHER_STAFF]
    head = world.staff[Role.HEAD_TEACHER]
    other = capabilities_of(Role.OTHER_STAFF)
    assert _held(user, world.unit) == {c.value for c in other}

    role_assign(actor=head, person=person, school_unit=world.unit, role=Role.ASSESSOR)
    assert _held(user, world.unit) == {c.value for c in capabilities_of(Role.ASSESSOR) | other}

    role_assign(actor=head, person=person, school_unit=world.unit, role=Role.PROCTOR)
    both = capabilities_of(Role.ASSESSOR) | capabilities_of(Role.PROCTOR) | other
    assert _held(user, world.unit) == {c.value for c in both}

    role_remove(actor=head, person=person, school_unit=world.unit, role=Role.ASSESSOR)
    assert _held(user, world.unit) == {c.value for c in capabilities_of(Role.PROCTOR) | other}

    role_remove(actor=head, person=person, school_unit=world.unit, role=Role.PROCTOR)
    assert _held(user, world.unit) == {c.value for c in other}

    role_remove(actor=head, person=person, school_unit=world.unit, role=Role.OTHER_STAFF)
    assert _held(user, world.unit) == set()


def test_teacher_group_permission_follows_the_teacher_role(world):
    teacher = world.staff[Role.TEACHER]
    head = world.staff[Role.HEAD_TEACHER]
    groups = TeachingGroupUserObjectPermission.objects.filter(user=teacher)
    assert list(groups.values_list("content_object", flat=True)) == [world.group_a.pk]

    role_remove(actor=head, person=teacher.person, school_unit=world.unit, role=Role.TEACHER)

    assert not groups.exists()


def test_scoping_is_one_query_with_one_subquery_whatever_the_number_of_units(world):
    # given a head teacher of six units, each with a teaching group
    user = world.staff[Role.HEAD_TEACHER]
    units = {world.unit.pk}
    for _ in range(5):
        unit = SchoolUnitFactory(organiser=world.unit.organiser)
        DutyFactory(person=user.person, school_unit=unit, duty_role="Rektor")
        role_assign(actor=None, person=user.person, school_unit=unit, role=Role.HEAD_TEACHER)
        TeachingGroupFactory(school_unit=unit)
        units.add(unit.pk)
    TeachingGroupFactory(school_unit=world.sibling_unit)
    queryset = scope_to_school_units(
        TeachingGroup.objects.all(), user=user, capability=Capability.VIEW_STUDENTS
    )
    # when the scoped list is read
    with CaptureQueriesContext(connection) as queries:
        rows = list(queryset)
    # then it took one statement, filtering by a subquery on the permission table
    assert len(queries) == 1
    sql = queries[0]["sql"].lower()
    assert sql.count(SchoolUnitUserObjectPermission._meta.db_table) == 1
    assert " in (select " in sql
    assert {g.school_unit_id for g in rows} == units


def test_students_of_another_unit_are_not_reachable_by_passing_that_unit(world):
    user = world.staff[Role.HEAD_TEACHER]
    assert not students_of(user=user, school_unit=world.sibling_unit).exists()
    assert not students_of(user=user, school_unit=world.other_org_unit).exists()
    assert students_of(user=user, school_unit=world.unit).count() == 6
    assert SchoolUnit.objects.count() == 4
