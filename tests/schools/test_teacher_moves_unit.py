"""A teacher who moves to another school unit is no longer the teacher of the old unit's groups,
and group permissions come only from a current duty at the group's unit."""

from __future__ import annotations

import pytest

from provplattform.models import AuditEvent
from schools.models import Person, RoleAssignment, TeachingGroup, TeachingGroupUserObjectPermission
from schools.roles import Role
from schools.selectors import teaching_groups_with_results
from schools.services import permissions_sync, permissions_sync_many
from schools.transfer.services import transfer_process
from tests.factories import OrganiserFactory
from tests.schools.test_transfer_units import two_units
from tests.schools.transfer_helpers import UNIT_2

pytestmark = pytest.mark.django_db


def test_a_teacher_whose_duty_moves_to_another_unit_leaves_the_old_units_groups():
    # given t1 teaches 9A at unit A through the activity a1
    organiser = OrganiserFactory()
    transfer_process(organiser=organiser, document=two_units())
    t1 = Person.objects.get(external_id="t1")
    group = TeachingGroup.objects.get(external_id="g1")
    assert list(teaching_groups_with_results(t1.user)) == [group]

    # when the organiser moves t1's duty to unit B (the activity is not sent again)
    doc = two_units()
    doc["duties"][0]["dutyAt"] = {"id": UNIT_2}
    doc["activities"] = []
    report = transfer_process(organiser=organiser, document=doc, reason="flytt")

    # then t1 is no longer 9A's teacher, sees none of its results, and the removal is audited
    assert report["status"] == "applied", report["rejected"]
    assert not group.teachers.filter(pk=t1.pk).exists()
    assert not teaching_groups_with_results(t1.user).exists()
    assert not TeachingGroupUserObjectPermission.objects.filter(user=t1.user).exists()
    removal = AuditEvent.objects.get(action="group.teacher_remove", target_id=str(t1.public_id))
    assert removal.reason == "flytt"


@pytest.mark.parametrize("sync", ["one", "many"])
def test_a_stale_teacher_link_grants_no_group_without_a_duty_there(world, sync):
    # given the teacher is still linked to a group of the sibling unit, where they hold no duty,
    # and is then given the teacher role there
    teacher = world.staff[Role.TEACHER]
    stale = TeachingGroup.objects.create(school_unit=world.sibling_unit, name="7C")
    stale.teachers.add(teacher.person)
    RoleAssignment.objects.create(
        person=teacher.person, school_unit=world.sibling_unit, role=Role.TEACHER
    )

    # when the permissions are brought in step with the roles
    if sync == "one":
        permissions_sync(person=teacher.person, school_unit=world.sibling_unit)
    else:
        permissions_sync_many(pairs={(teacher.person.pk, world.sibling_unit.pk)})

    # then the stale link grants nothing; the group of their own unit stays
    assert not TeachingGroupUserObjectPermission.objects.filter(
        user=teacher, content_object=stale
    ).exists()
    assert set(teaching_groups_with_results(teacher)) == {world.group_a}
