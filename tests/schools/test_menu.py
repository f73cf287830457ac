"""The school unit's main menu leads every role to its pages, and only to pages it may open."""

import re

import pytest
from django.urls import reverse

from schools.roles import Capability, Role, capabilities_of

ENTRIES = {
    "Prepare tests": Capability.ADMINISTER_TESTS,
    "Exam rooms": Capability.PROCTOR,
    "Connectivity": Capability.VIEW_CONNECTIVITY,
}


def _menu(html: str) -> dict[str, str]:
    nav = html.split('<nav class="main-nav"', 1)[1].split("</nav>", 1)[0]
    return {
        label.strip(): href
        for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    }


@pytest.mark.parametrize("role", list(Role))
def test_each_role_finds_exactly_the_pages_it_may_open_in_the_menu(world, client, role):
    # given
    client.force_login(world.staff[role])
    # when
    menu = _menu(
        client.get(reverse("unit-dashboard", args=[world.unit.public_id])).content.decode()
    )
    # then
    allowed = capabilities_of(role)
    for label, capability in ENTRIES.items():
        if capability in allowed:
            assert label in menu, f"{role} should find {label}"
            assert client.get(menu[label]).status_code == 200
        else:
            assert label not in menu, f"{role} must not be offered {label}"


def test_other_staff_is_offered_none_of_the_test_pages(world, client):
    client.force_login(world.staff[Role.OTHER_STAFF])
    html = client.get(reverse("unit-dashboard", args=[world.unit.public_id])).content.decode()
    assert not set(ENTRIES) & set(_menu(html))


def test_menu_entries_point_at_the_unit_being_shown(world, client):
    # A head teacher of the sibling unit sees links to that unit, never to the first one.
    client.force_login(world.sibling_head)
    menu = _menu(
        client.get(reverse("unit-dashboard", args=[world.sibling_unit.public_id])).content.decode()
    )
    assert str(world.sibling_unit.public_id) in menu["Prepare tests"]
    assert str(world.unit.public_id) not in "".join(menu.values())
