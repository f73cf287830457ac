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


def _every_menu_link_answers(client, start: str) -> dict[str, str]:
    """Open `start`, then every page its menu offers, and the menus of those pages: no 4xx."""
    response = client.get(start, follow=True)
    assert response.status_code == 200
    menu = _menu(response.content.decode())
    for label, href in menu.items():
        page = client.get(href)
        assert page.status_code == 200, f"{label} ({href}) answered {page.status_code}"
        for inner_label, inner_href in _menu(page.content.decode()).items():
            inner = client.get(inner_href)
            assert inner.status_code == 200, f"{inner_label} on {href} answered {inner.status_code}"
    return menu


@pytest.mark.parametrize("role", list(Role))
def test_no_menu_entry_of_any_role_answers_404(world, client, role):
    # The staff, groups and students entries used to be shown to everyone.
    client.force_login(world.staff[role])
    menu = _every_menu_link_answers(client, "/")
    allowed = capabilities_of(role)
    assert ("Staff and roles" in menu) == (Capability.VIEW_STAFF in allowed)
    assert ("Students" in menu) == (Capability.VIEW_STUDENTS in allowed)
    assert ("Teaching groups" in menu) == (Capability.VIEW_STUDENTS in allowed)


def test_other_staff_menu_holds_only_the_overview(world, client):
    client.force_login(world.staff[Role.OTHER_STAFF])
    menu = _every_menu_link_answers(client, "/")
    assert list(menu) == ["Overview"]


def test_organiser_administrator_finds_transfers_and_tokens_in_the_menu(world, client):
    from schools.models import OrganiserAdministrator
    from tests.factories import UserFactory

    admin = UserFactory(username="orgadmin")
    OrganiserAdministrator.objects.create(user=admin, organiser=world.unit.organiser)
    client.force_login(admin)
    menu = _every_menu_link_answers(client, "/")
    assert menu["Transfers"] == reverse("transfer-runs")
    assert menu["API tokens"] == reverse("transfer-tokens")
    # A school's head teacher is not offered them.
    client.force_login(world.staff[Role.HEAD_TEACHER])
    assert "Transfers" not in _every_menu_link_answers(client, "/")


def test_platform_operator_lands_on_test_definitions_and_finds_announcements(db, client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="op", is_platform_operator=True))
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("exams-operator-tests")
    menu = _every_menu_link_answers(client, "/")
    assert menu["Test definitions"] == reverse("exams-operator-tests")
    assert menu["Service announcements"] == reverse("status-announcements")
    assert "School units" not in menu


def test_outsider_without_anything_is_offered_no_page_that_refuses_them(world, client):
    client.force_login(world.outsider)
    assert _every_menu_link_answers(client, "/") == {}
