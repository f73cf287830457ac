"""Data migrations that bring existing role holders in step with a changed role table."""

import importlib

from django.apps import apps

from schools.models import SchoolUnitUserObjectPermission
from schools.roles import Capability, Role
from schools.selectors import user_has_capability
from schools.services import role_assign
from tests.factories import staff_member

grant_connectivity = importlib.import_module(
    "schools.migrations.0002_other_staff_watches_connectivity"
).grant
revoke_connectivity = importlib.import_module(
    "schools.migrations.0005_other_staff_loses_connectivity"
).revoke


def _watches(user, unit) -> bool:
    return user_has_capability(user=user, school_unit=unit, capability=Capability.VIEW_CONNECTIVITY)


def test_other_staff_granted_the_connectivity_page_by_0002_loses_it_and_nobody_else_does(world):
    # given a database migrated through 0002: Övrig skolpersonal holds view_connectivity, and so
    # does an IT technician who was also given Bedömningsledare
    other = world.staff[Role.OTHER_STAFF]
    technician = staff_member(world.unit, duty_role="IKT-tekniker")
    for role in (Role.OTHER_STAFF, Role.ASSESSMENT_LEAD):
        role_assign(actor=None, person=technician.person, school_unit=world.unit, role=role)
    grant_connectivity(apps, None)
    assert _watches(other, world.unit) and _watches(technician, world.unit)
    before = SchoolUnitUserObjectPermission.objects.count()
    # when 0004 runs (twice: it must be safe to repeat)
    revoke_connectivity(apps, None)
    revoke_connectivity(apps, None)
    # then only the user whose one role there is Övrig skolpersonal lost it, and nothing else
    assert not _watches(other, world.unit)
    assert not SchoolUnitUserObjectPermission.objects.filter(user=other).exists()
    assert _watches(technician, world.unit)
    assert _watches(world.staff[Role.PROCTOR], world.unit)
    assert SchoolUnitUserObjectPermission.objects.count() == before - 1
