"""Every role × every capability × (own unit / sibling unit / unit of another organiser).

Generated from schools.roles.ROLE_TABLE; each case runs the capability's probe from
tests/permission_probes.py. Allowed pairs must work, refused pairs must be refused, and another
school unit answers 404 — never 403.
"""

import pytest

from schools.roles import ROLE_TABLE, Capability, Role, capabilities_of
from tests.factories import TeachingGroupFactory, staff_member
from tests.permission_probes import (
    AWAITING_PAGES,
    PROBES,
    Outcome,
    is_selector_level,
    outcome_of,
)

PLACES = ["own_unit", "sibling_unit", "other_organiser"]

# Every case reads the same world: it is built once for the module, and each case's own writes
# (a probe adds a room or a sitting) are rolled back after it.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(shared_world):
    return shared_world


def _unit(world, place):
    return {
        "own_unit": world.unit,
        "sibling_unit": world.sibling_unit,
        "other_organiser": world.other_org_unit,
    }[place]


CASES = [
    pytest.param(role, capability, place, id=f"{role.value}-{capability.value}-{place}")
    for role in ROLE_TABLE
    for capability in Capability
    for place in PLACES
]


def test_every_capability_has_a_probe():
    missing = set(Capability) - set(PROBES)
    assert not missing, f"add a probe for {sorted(missing)} to tests/<app>/probes.py"


def test_only_capabilities_awaiting_their_pages_are_probed_below_the_pages():
    below = {c for c in Capability if c in PROBES and is_selector_level(c)}
    assert below <= AWAITING_PAGES, f"{sorted(below - AWAITING_PAGES)}: probe the page or API"


@pytest.mark.parametrize(("role", "capability", "place"), CASES)
def test_permission_matrix(world, client, role, capability, place):
    # given
    client.force_login(world.staff[role])
    unit = _unit(world, place)
    # when
    outcome = outcome_of(PROBES[capability](client, unit))
    # then
    if place != "own_unit":
        assert outcome is Outcome.NOT_FOUND
    elif capability in capabilities_of(role):
        assert outcome is Outcome.ALLOWED
    else:
        assert outcome in (Outcome.REFUSED, Outcome.NOT_FOUND)


@pytest.mark.parametrize("capability", list(Capability))
@pytest.mark.parametrize("place", PLACES)
def test_outsider_is_refused_everything(world, client, capability, place):
    client.force_login(world.outsider)
    assert outcome_of(PROBES[capability](client, _unit(world, place))) is Outcome.NOT_FOUND


@pytest.mark.parametrize("capability", list(Capability))
def test_other_staff_is_refused_everything_at_their_own_unit(world, client, capability):
    client.force_login(world.staff[Role.OTHER_STAFF])
    assert outcome_of(PROBES[capability](client, world.unit)) is not Outcome.ALLOWED


@pytest.mark.parametrize("capability", list(Capability))
def test_head_of_the_sibling_unit_gets_not_found_here(world, client, capability):
    # given someone to give roles to and a group at the sibling unit
    staff_member(world.sibling_unit)
    TeachingGroupFactory(school_unit=world.sibling_unit)
    client.force_login(world.sibling_head)
    assert outcome_of(PROBES[capability](client, world.unit)) is Outcome.NOT_FOUND
    if capability in capabilities_of(Role.HEAD_TEACHER):
        assert outcome_of(PROBES[capability](client, world.sibling_unit)) is Outcome.ALLOWED
