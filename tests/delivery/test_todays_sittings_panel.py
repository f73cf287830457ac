"""The proctor's "Today's sittings" panel on the school unit dashboard."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from delivery import attempts
from delivery.selectors import todays_sittings_for
from exams.models import SittingProctor, SittingStatus, SittingStudent
from schools.roles import Role
from tests.delivery.attempt_helpers import local_at, make_sitting, proctor, started_attempt
from tests.factories import student

PANEL = "delivery/_todays_sittings_panel.html"


@pytest.fixture
def ten_o_clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


def dashboard(client, world):
    return client.get(reverse("unit-dashboard", args=[world.unit.public_id]))


def panel_of(response) -> dict | None:
    for panel in response.context["panels"]:
        if panel["template"] == PANEL:
            return panel["context"]
    return None


def test_proctor_sees_todays_sittings_with_room_time_count_and_a_link_to_the_room(
    world, client, ten_o_clock
):
    # given a sitting today with one of three students submitted
    sitting = make_sitting(world, starts_at=local_at(9, 15))
    attempt, _ = started_attempt(world, sitting, person=world.students_a[0])
    attempts.attempt_submit(attempt=attempt)
    client.force_login(proctor(world))
    # when
    response = dashboard(client, world)
    # then
    html = response.content.decode()
    assert "Today&#x27;s sittings" in html or "Today's sittings" in html
    assert str(sitting.subtest) in html
    assert sitting.room.name in html
    assert "09:15" in html
    assert "1 of 3 submitted" in html
    assert reverse("proctor-room", args=[sitting.public_id]) in html
    assert "Open the exam room" in html


def test_sittings_the_user_proctors_come_first(world, client, ten_o_clock):
    # given an earlier sitting proctored by someone else and a later one of the user's own
    others = make_sitting(world, starts_at=local_at(8))
    SittingProctor.objects.filter(sitting=others).delete()
    SittingProctor.objects.create(sitting=others, person=world.staff[Role.TEACHER].person)
    mine = make_sitting(world, starts_at=local_at(13), students=world.students_b)
    client.force_login(proctor(world))
    # when
    sittings = panel_of(dashboard(client, world))["sittings"]
    # then both are offered (a proctor may supervise any sitting of the unit), own first
    assert [s.pk for s in sittings] == [mine.pk, others.pk]
    assert [s.is_mine for s in sittings] == [True, False]


def test_only_todays_sittings_of_this_unit_are_listed(world, client, ten_o_clock):
    today = make_sitting(world, starts_at=local_at(11))
    yesterday = make_sitting(world, starts_at=local_at(11, days=-1))
    tomorrow = make_sitting(world, starts_at=local_at(11, days=1))
    postponed = make_sitting(world, starts_at=local_at(12))
    postponed.status = SittingStatus.POSTPONED
    postponed.save()
    sibling = make_sitting(world, unit=world.sibling_unit, starts_at=local_at(11))
    client.force_login(world.staff[Role.TEACHER])  # the teacher role includes the proctor's
    listed = {s.pk for s in panel_of(dashboard(client, world))["sittings"]}
    assert listed == {today.pk}
    assert not listed & {yesterday.pk, tomorrow.pk, postponed.pk, sibling.pk}


def test_today_is_the_units_own_day_in_its_time_zone(world):
    # given a unit in Auckland: at 14:00 in Stockholm it is already tomorrow there
    organiser = world.unit.organiser
    organiser.time_zone = "Pacific/Auckland"
    organiser.save()
    auckland = zoneinfo.ZoneInfo("Pacific/Auckland")
    now = local_at(14)
    their_today = now.astimezone(auckland).date()
    their_morning = datetime.datetime.combine(their_today, datetime.time(9), tzinfo=auckland)
    stockholm_morning = make_sitting(world, starts_at=local_at(10))
    auckland_morning = make_sitting(world, starts_at=their_morning, students=world.students_b)
    # when
    sittings = todays_sittings_for(user=proctor(world), school_unit=world.unit, now=now)
    # then the start time is shown on the unit's clock
    assert [s.pk for s in sittings] == [auckland_morning.pk]
    assert sittings[0].starts_time == datetime.time(9)
    assert stockholm_morning.pk not in {s.pk for s in sittings}


@pytest.mark.parametrize("role", [Role.OTHER_STAFF, Role.ASSESSOR, Role.ASSESSMENT_LEAD])
def test_panel_is_hidden_from_staff_who_do_not_proctor(world, client, ten_o_clock, role):
    make_sitting(world, starts_at=local_at(11))
    client.force_login(world.staff[role])
    response = dashboard(client, world)
    assert response.status_code == 200
    assert panel_of(response) is None
    assert "Open the exam room" not in response.content.decode()


def test_another_units_head_teacher_sees_only_their_own_units_sittings(world, client, ten_o_clock):
    ours = make_sitting(world, starts_at=local_at(11))
    theirs = make_sitting(world, unit=world.sibling_unit, starts_at=local_at(11))
    client.force_login(world.sibling_head)
    assert dashboard(client, world).status_code == 404
    response = client.get(reverse("unit-dashboard", args=[world.sibling_unit.public_id]))
    assert [s.pk for s in panel_of(response)["sittings"]] == [theirs.pk]
    assert reverse("proctor-room", args=[ours.public_id]) not in response.content.decode()


def test_without_sittings_today_the_panel_points_to_the_exam_rooms(world, client, ten_o_clock):
    make_sitting(world, starts_at=local_at(11, days=1))
    client.force_login(proctor(world))
    response = dashboard(client, world)
    assert panel_of(response)["sittings"] == []
    html = response.content.decode()
    assert "There are no sittings here today." in html
    assert f'href="{reverse("proctor-sittings")}"' in html


def test_panel_queries_do_not_grow_with_sittings_or_students(world, client, ten_o_clock):
    make_sitting(world, starts_at=local_at(9))
    client.force_login(proctor(world))
    dashboard(client, world)
    with CaptureQueriesContext(connection) as small:
        dashboard(client, world)
    for hour in (11, 12, 13, 14):
        sitting = make_sitting(world, starts_at=local_at(hour), students=[])
        for _ in range(30):
            SittingStudent.objects.create(sitting=sitting, person=student(world.unit))
        started_attempt(world, sitting)
    dashboard(client, world)
    with CaptureQueriesContext(connection) as large:
        response = dashboard(client, world)
    assert len(panel_of(response)["sittings"]) == 5
    assert len(large.captured_queries) <= len(small.captured_queries)
