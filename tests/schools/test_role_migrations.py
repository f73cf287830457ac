"""Data migrations that bring existing role holders in step with a changed role table."""

import importlib

from django.apps import apps

from schools.models import SchoolUnitUserObjectPermission
from schools.roles import Capability, Role
from schools.selectors import user_has_capability

grant_connectivity = importlib.import_module(
    "schools.migrations.0002_other_staff_watches_connectivity"
).grant


def test_existing_other_staff_gets_the_connectivity_page_and_nobody_else_gains(world):
    # given a database from before the change: other staff without the permission
    other = world.staff[Role.OTHER_STAFF]
    SchoolUnitUserObjectPermission.objects.filter(
        user=other, permission__codename=Capability.VIEW_CONNECTIVITY
    ).delete()
    assert not user_has_capability(
        user=other, school_unit=world.unit, capability=Capability.VIEW_CONNECTIVITY
    )
    before = SchoolUnitUserObjectPermission.objects.count()
    # when the migration runs (twice: it must be safe to repeat)
    grant_connectivity(apps, None)
    grant_connectivity(apps, None)
    # then exactly that one permission was added, at their own unit
    assert user_has_capability(
        user=other, school_unit=world.unit, capability=Capability.VIEW_CONNECTIVITY
    )
    assert SchoolUnitUserObjectPermission.objects.count() == before + 1
    assert not user_has_capability(
        user=other, school_unit=world.sibling_unit, capability=Capability.VIEW_CONNECTIVITY
    )
