"""Who still has to sit: per subtest, the students who missed it, on the unit's pages and in the
API, and a catch-up sitting planned for them in a few clicks."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from exams import catch_up
from exams.models import Sitting, SittingStatus
from exams.preparation.assignments import assignments_create
from exams.preparation.decisions import adjustments_lock
from exams.preparation.sittings import sitting_create
from schools.roles import Role
from tests.exams.helpers import at, room, subtest_in_window
from tests.factories import ExemptionFactory, PersonFactory

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() + datetime.timedelta(days=2)


def _ended_sitting(world, *, students, assigned=None):
    """A sitting of a fresh subtest that has ended; its first student sat it."""
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    subtest = subtest_in_window()
    assignments_create(
        actor=admin, school_unit=world.unit, subtest=subtest, persons=assigned or students
    )
    sitting = sitting_create(
        actor=admin,
        school_unit=world.unit,
        subtest=subtest,
        room=room(world),
        starts_at=at(DAY, 9),
        proctors=[world.staff[Role.PROCTOR].person],
        students=students,
    ).sitting
    adjustments_lock(person=students[0], subtest=subtest)  # the first one started
    Sitting.objects.filter(pk=sitting.pk).update(status=SittingStatus.ENDED)
    return subtest, sitting


def test_students_absent_from_an_ended_sitting_or_never_placed_still_have_to_sit(world):
    sat, absent, ill = world.students_a
    late_arrival = world.students_b[0]  # assigned, never placed (arrived at the school later)
    subtest, sitting = _ended_sitting(
        world, students=[sat, absent, ill], assigned=[sat, absent, ill, late_arrival]
    )
    ExemptionFactory(school_unit=world.unit, person=ill, test=subtest.test)

    [group] = catch_up.still_to_sit(school_unit=world.unit)

    assert group.subtest == subtest
    assert {(row.person, row.reason) for row in group.students} == {
        (absent, catch_up.ABSENT),
        (late_arrival, catch_up.NOT_PLACED),
    }
    assert next(r for r in group.students if r.person == absent).missed == sitting


def test_a_student_placed_in_a_catch_up_sitting_no_longer_has_to_sit(world):
    sat, absent, _ = world.students_a
    subtest, _sitting = _ended_sitting(world, students=[sat, absent])
    sitting_create(
        actor=world.staff[Role.TEST_ADMINISTRATOR],
        school_unit=world.unit,
        subtest=subtest,
        room=room(world),
        starts_at=at(DAY + datetime.timedelta(days=1), 9),
        proctors=[world.staff[Role.PROCTOR].person],
        students=[absent],
        is_catch_up=True,
    )
    assert catch_up.still_to_sit(school_unit=world.unit) == []


def test_the_page_lists_them_and_plans_the_catch_up_in_a_few_clicks(client, world):
    sat, absent, _ = world.students_a
    subtest, _sitting = _ended_sitting(world, students=[sat, absent])
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    client.force_login(admin)

    # the unit's page and the dashboard name who still has to sit
    page = client.get(reverse("exams-still-to-sit", args=[world.unit.public_id]))
    html = page.content.decode()
    assert absent.full_name in html and sat.full_name not in html
    dashboard = client.get(reverse("unit-dashboard", args=[world.unit.public_id])).content
    assert "still-to-sit-panel" in dashboard.decode()

    # click: the sittings page with the subtest, catch-up and the students filled in
    plan = page.context["groups"][0][1]
    form_page = client.get(plan)
    assert form_page.status_code == 200
    form = form_page.context["form"]
    assert str(form["subtest"].value()) == str(subtest.public_id)
    assert form["is_catch_up"].value() is True
    assert [p.pk for p in form_page.context["planned_students"]] == [absent.pk]
    assert f'type="hidden" name="students" value="{absent.public_id}"' in form_page.content.decode()

    # submit with a room, a time and a proctor: the catch-up sitting places the student
    response = client.post(
        reverse("exams-sittings", args=[world.unit.public_id]),
        {
            "subtest": str(subtest.public_id),
            "room": str(room(world).public_id),
            "starts_at": f"{DAY + datetime.timedelta(days=1)}T10:00",
            "proctors": [str(world.staff[Role.PROCTOR].person.public_id)],
            "is_catch_up": "on",
            "students": [str(absent.public_id)],
        },
    )
    assert response.status_code == 302
    new = Sitting.objects.get(subtest=subtest, is_catch_up=True)
    assert list(new.placements.values_list("person_id", flat=True)) == [absent.pk]
    assert catch_up.still_to_sit(school_unit=world.unit) == []


def test_the_api_lists_who_still_has_to_sit(client, world):
    sat, absent, _ = world.students_a
    subtest, sitting = _ended_sitting(world, students=[sat, absent])
    client.force_login(world.staff[Role.HEAD_TEACHER])
    body = client.get(f"/api/v1/units/{world.unit.public_id}/still-to-sit/").json()
    assert body == [
        {
            "subtest": str(subtest.public_id),
            "test": subtest.test.title,
            "title": subtest.title,
            "window_end": subtest.effective_window[1].isoformat(),
            "students": [
                {
                    "id": str(absent.public_id),
                    "name": absent.full_name,
                    "reason": "absent",
                    "missed_sitting": str(sitting.public_id),
                }
            ],
        }
    ]


@pytest.mark.parametrize("role", [Role.TEACHER, Role.PROCTOR, Role.ASSESSOR])
def test_who_still_has_to_sit_is_not_found_for_those_who_do_not_plan_sittings(client, world, role):
    _ended_sitting(world, students=world.students_a[:2])
    client.force_login(world.staff[role])
    assert client.get(reverse("exams-still-to-sit", args=[world.unit.public_id])).status_code == 404
    api = client.get(f"/api/v1/units/{world.unit.public_id}/still-to-sit/")
    assert api.status_code == 404


def test_another_units_students_never_show(world):
    outsider = PersonFactory(organiser=world.sibling_unit.organiser)
    _ended_sitting(world, students=world.students_a[:2])
    rows = [
        r.person for g in catch_up.still_to_sit(school_unit=world.sibling_unit) for r in g.students
    ]
    assert outsider not in rows and rows == []
