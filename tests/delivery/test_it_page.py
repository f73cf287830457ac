"""The IT staff page: notices across rooms and devices per room, for connectivity staff only."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from delivery.models import Notice, NoticeKind
from schools.roles import Role, capabilities_of, role_for_duty
from schools.services import role_assign
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt
from tests.delivery.presence_helpers import presence_of, store  # noqa: F401
from tests.factories import staff_member

CONNECTIVITY_ROLES = [r for r in Role if "view_connectivity" in capabilities_of(r)]


@pytest.fixture
def live_unit(world, store):  # noqa: F811
    with time_machine.travel(local_at(10), tick=False):
        sitting = make_sitting(world)
        attempts = [started_attempt(world, sitting, person=p)[0] for p in world.students_a]
        yield world, sitting, attempts


@pytest.mark.parametrize("role", CONNECTIVITY_ROLES)
def test_every_role_with_connectivity_rights_opens_the_it_page(live_unit, client, role):
    world, _sitting, _attempts = live_unit
    client.force_login(world.staff[role])
    assert client.get(reverse("it-page", args=[world.unit.public_id])).status_code == 200


def test_it_staff_with_only_the_other_staff_role_gets_404_until_given_another_role(
    live_unit, client
):
    # given an IT technician as the organiser's transfer brings them: Övrig skolpersonal only
    world, _sitting, _attempts = live_unit
    technician = staff_member(world.unit, duty_role="IKT-tekniker")
    role_assign(
        actor=None,
        person=technician.person,
        school_unit=world.unit,
        role=role_for_duty("IKT-tekniker"),
    )
    client.force_login(technician)
    assert client.get(reverse("it-page", args=[world.unit.public_id])).status_code == 404
    assert client.get(reverse("it-rooms", args=[world.unit.public_id])).status_code == 404
    # when the head teacher gives them another role
    role_assign(
        actor=world.staff[Role.HEAD_TEACHER],
        person=technician.person,
        school_unit=world.unit,
        role=Role.ASSESSMENT_LEAD,
    )
    # then the page opens
    assert client.get(reverse("it-page", args=[world.unit.public_id])).status_code == 200
    assert client.get(reverse("it-rooms", args=[world.unit.public_id])).status_code == 200


def test_other_staff_outsiders_and_other_units_get_404(live_unit, client):
    world, _sitting, _attempts = live_unit
    assert Role.OTHER_STAFF not in CONNECTIVITY_ROLES
    for user in (world.staff[Role.OTHER_STAFF], world.outsider, world.sibling_head):
        client.force_login(user)
        assert client.get(reverse("it-page", args=[world.unit.public_id])).status_code == 404
        assert client.get(reverse("it-rooms", args=[world.unit.public_id])).status_code == 404


def test_it_page_counts_connected_and_disconnected_devices_per_room(live_unit, client, store):  # noqa: F811
    world, sitting, attempts = live_unit
    now = local_at(10).timestamp()
    for a in attempts:
        store.connect(presence_of(a), conn="c", now=now)
    store.close(presence_of(attempts[0]), conn="c", now=now)
    client.force_login(world.staff[Role.ASSESSOR])
    response = client.get(reverse("it-rooms", args=[world.unit.public_id]))
    assert response.context["rooms"] == [
        {"room": sitting.room.name, "room_id": sitting.room_id, "connected": 2, "disconnected": 1}
    ]


def test_it_page_shows_the_units_notices_but_not_other_units(live_unit, client):
    world, sitting, attempts = live_unit
    Notice.objects.create(
        sitting=sitting,
        school_unit=world.unit,
        room=sitting.room,
        person=attempts[0].person,
        kind=NoticeKind.CONNECTION_LOST,
        data={"name": "Ada Ek"},
    )
    Notice.objects.create(
        school_unit=world.sibling_unit,
        kind=NoticeKind.CONNECTION_LOST,
        data={"name": "Bo Gran"},
    )
    client.force_login(world.staff[Role.PROCTOR])
    html = client.get(reverse("it-page", args=[world.unit.public_id])).content.decode()
    assert "Ada Ek lost the connection" in html
    assert "Bo Gran" not in html


def test_it_notices_endpoint_gives_what_was_missed_for_the_unit_only(live_unit, client):
    world, sitting, _attempts = live_unit

    def notice(unit, name, **data):
        return Notice.objects.create(
            sitting=sitting if unit == world.unit else None,
            school_unit=unit,
            kind=NoticeKind.CONNECTION_LOST,
            data={"name": name, **data},
        )

    seen = notice(world.unit, "Ada Ek")
    missed = notice(world.unit, "Cy Berg")
    notice(world.unit, "Hidden Burst", it_hidden=True)  # covered by a room notice
    notice(world.sibling_unit, "Bo Gran")
    url = reverse("it-notices", args=[world.unit.public_id])
    # Övrig skolpersonal has no permissions until given another role.
    client.force_login(world.staff[Role.OTHER_STAFF])
    assert client.get(url).status_code == 404
    client.force_login(world.staff[Role.ASSESSOR])
    names = [n["name"] for n in client.get(url).json()["notices"]]
    assert names == ["Ada Ek", "Cy Berg"]  # oldest first
    after = client.get(url, {"after": seen.pk}).json()["notices"]
    assert [(n["id"], n["kind"], n["name"]) for n in after] == [
        (missed.pk, "connection_lost", "Cy Berg")
    ]
    client.force_login(world.sibling_head)
    assert client.get(url).status_code == 404
    client.force_login(world.outsider)
    assert client.get(url).status_code == 404
