"""The API and the pages: scoping (another unit answers 404), refusals as 400 with the reason,
room filters, bulk summaries and audit rows."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from exams.models import Adjustment, Assignment, Room, Sitting
from exams.preparation.assignments import assignments_create
from exams.preparation.sittings import sitting_create
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.exams.helpers import at, room, subtest_in_window
from tests.factories import RoomFactory

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() + datetime.timedelta(days=2)


def api(unit, path=""):
    return f"/api/v1/units/{unit.public_id}/{path}"


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.staff[Role.TEST_ADMINISTRATOR])
    return client


def test_rooms_api_creates_and_refuses_duplicates(admin_client, world):
    created = admin_client.post(
        api(world.unit, "rooms/"), {"name": "Aulan"}, content_type="application/json"
    )
    assert created.status_code == 201
    again = admin_client.post(
        api(world.unit, "rooms/"), {"name": "aulan"}, content_type="application/json"
    )
    assert again.status_code == 400
    assert "already a room" in again.json()["detail"]
    assert AuditEvent.objects.filter(action="room.create").count() == 1


def test_another_units_rooms_answer_404(admin_client, world):
    assert admin_client.get(api(world.sibling_unit, "rooms/")).status_code == 404
    foreign = RoomFactory(school_unit=world.sibling_unit)
    response = admin_client.get(api(world.unit, f"sittings/?room={foreign.public_id}"))
    assert response.status_code == 404


def test_bulk_assignment_by_group_returns_the_summary(admin_client, world):
    subtest = subtest_in_window()
    response = admin_client.post(
        api(world.unit, "assignments/"),
        {"subtest": str(subtest.public_id), "group": str(world.group_a.public_id)},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["changed_count"] == 3
    again = admin_client.post(
        api(world.unit, "assignments/"),
        {
            "subtest": str(subtest.public_id),
            "students": [
                str(world.students_a[0].public_id),
                str(world.other_org_students[0].public_id),
            ],
        },
        content_type="application/json",
    )
    body = again.json()
    assert body["changed_count"] == 0
    assert sorted(r["reason"] for r in body["refused"]) == [
        "Already assigned.",
        "Not enrolled at this school unit.",
    ]
    # the refusal for a foreign student names no one
    assert all(r["name"] == "" for r in body["refused"] if r["reason"].startswith("Not"))


def test_assignment_api_refuses_before_the_window_opens(admin_client, world):
    subtest = subtest_in_window(days_until_window=40)
    response = admin_client.post(
        api(world.unit, "assignments/"),
        {"subtest": str(subtest.public_id), "grade": True},
        content_type="application/json",
    )
    assert response.json()["changed_count"] == 0
    assert response.json()["refused_count"] == 6
    assert "Assignment opens on" in response.json()["refused"][0]["reason"]


def test_sitting_api_refuses_a_proctor_without_the_role_with_the_reason(admin_client, world):
    subtest = subtest_in_window()
    r = room(world)
    response = admin_client.post(
        api(world.unit, "sittings/"),
        {
            "subtest": str(subtest.public_id),
            "room": str(r.public_id),
            "starts_at": at(DAY, 9).isoformat(),
            "proctors": [str(world.staff[Role.OTHER_STAFF].person.public_id)],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "proctor role" in response.json()["detail"]
    assert not Sitting.objects.exists()


def test_sitting_api_creates_postpones_and_filters_by_room(admin_client, world):
    subtest = subtest_in_window()
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    assignments_create(
        actor=admin, school_unit=world.unit, subtest=subtest, persons=world.students_a
    )
    hall, lab = room(world, "Aulan"), room(world, "Labbet")
    response = admin_client.post(
        api(world.unit, "sittings/"),
        {
            "subtest": str(subtest.public_id),
            "room": str(hall.public_id),
            "starts_at": at(DAY, 9).isoformat(),
            "proctors": [str(world.staff[Role.PROCTOR].person.public_id)],
            "students": [str(p.public_id) for p in world.students_a],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["students"]["changed_count"] == 3
    sitting_id = response.json()["sitting"]["id"]
    assert len(admin_client.get(api(world.unit, f"sittings/?room={hall.public_id}")).json()) == 1
    assert admin_client.get(api(world.unit, f"sittings/?room={lab.public_id}")).json() == []
    placed_in_lab = admin_client.get(api(world.unit, f"assignments/?room={lab.public_id}"))
    assert placed_in_lab.json() == []
    assert len(admin_client.get(api(world.unit, f"assignments/?room={hall.public_id}")).json()) == 3
    postponed = admin_client.post(
        api(world.unit, f"sittings/{sitting_id}/postpone/"),
        {"starts_at": at(DAY, 13).isoformat(), "reason": "Strömavbrott"},
        content_type="application/json",
    )
    assert postponed.status_code == 201
    assert len(postponed.json()["students"]) == 3


def test_adjustment_api_refuses_what_the_subtest_does_not_permit(client, world):
    subtest = subtest_in_window()
    subtest.permitted_adjustments = ["tools"]
    subtest.save()
    client.force_login(world.staff[Role.SCHOOL_ADMINISTRATOR])
    response = client.post(
        api(world.unit, "adjustments/"),
        {
            "student": str(world.students_a[0].public_id),
            "test": str(subtest.test.public_id),
            "subtest": str(subtest.public_id),
            "extended_minutes": 15,
            "decided_by": str(world.staff[Role.HEAD_TEACHER].person.public_id),
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "does not permit extended time" in response.json()["detail"]
    assert not Adjustment.objects.exists()


def test_adjustment_page_saves_and_is_audited(client, world):
    subtest = subtest_in_window()
    client.force_login(world.staff[Role.HEAD_TEACHER])
    response = client.post(
        reverse("exams-adjustments", args=[world.unit.public_id]),
        {
            "student": str(world.students_a[0].public_id),
            "test": str(subtest.test.public_id),
            "subtest": str(subtest.public_id),
            "extended_percent": 25,
            "decided_by": str(world.staff[Role.HEAD_TEACHER].person.public_id),
        },
    )
    assert response.status_code == 302
    assert Adjustment.objects.get().extended_percent == 25
    assert AuditEvent.objects.filter(action="adjustment.create").exists()


def test_exemption_api_refuses_another_ground(client, world):
    from schools.services import role_assign
    from tests.exams.helpers import norwegian_subtest
    from tests.factories import staff_member, student

    unit = world.other_org_unit
    head = staff_member(unit, duty_role="Rektor")
    role_assign(actor=None, person=head.person, school_unit=unit, role=Role.HEAD_TEACHER)
    pupil = student(unit)
    subtest = norwegian_subtest()
    client.force_login(head)
    body = {
        "student": str(pupil.public_id),
        "test": str(subtest.test.public_id),
        "ground": "illness",
        "decision_reference": "2027/1",
        "attested_no_significance": True,
        "decided_by": str(head.person.public_id),
    }
    refused = client.post(api(unit, "exemptions/"), body, content_type="application/json")
    assert refused.status_code == 400
    body["ground"] = "special_education"
    accepted = client.post(api(unit, "exemptions/"), body, content_type="application/json")
    assert accepted.status_code == 201
    listed = client.get(api(unit, "exemptions/")).json()
    assert listed[0]["ground"] == "special_education"
    # a head teacher of another organiser's unit does not see it
    client.force_login(world.staff[Role.HEAD_TEACHER])
    assert client.get(api(unit, "exemptions/")).status_code == 404


def test_correcting_an_assignment_on_the_day_through_the_page(client, world):
    subtest, right = subtest_in_window(), subtest_in_window()
    admin = world.staff[Role.SCHOOL_ADMINISTRATOR]
    assignments_create(
        actor=admin, school_unit=world.unit, subtest=subtest, persons=world.students_a[:1]
    )
    assignment = Assignment.objects.get()
    client.force_login(admin)
    url = reverse("exams-assignment-correct", args=[world.unit.public_id, assignment.public_id])
    missing_reason = client.post(url, {"replacement": str(right.public_id), "reason": ""})
    assert missing_reason.status_code == 400
    done = client.post(url, {"replacement": str(right.public_id), "reason": "Fel prov"})
    assert done.status_code == 302
    assert Assignment.objects.get().subtest == right


def test_assignment_page_shows_the_summary_and_filters_by_room(client, world):
    subtest = subtest_in_window()
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    client.force_login(admin)
    url = reverse("exams-assignments", args=[world.unit.public_id])
    response = client.post(url, {"subtest": str(subtest.public_id), "mode": "grade"})
    content = response.content.decode()
    assert "6 changes made." in content
    hall = room(world, "Aulan")
    sitting_create(
        actor=admin,
        school_unit=world.unit,
        subtest=subtest,
        room=hall,
        starts_at=at(DAY, 9),
        proctors=[world.staff[Role.PROCTOR].person],
        students=world.students_a[:1],
    )
    filtered = client.get(url, {"room": str(hall.public_id)})
    assert filtered.context["assignments"].count() == 1


def test_another_units_sitting_page_answers_404(client, world):
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    foreign_room = Room.objects.create(school_unit=world.sibling_unit, name="B1")
    subtest = subtest_in_window()
    client.force_login(admin)
    sibling_head = world.sibling_head
    sitting = Sitting.objects.create(
        school_unit=world.sibling_unit, subtest=subtest, room=foreign_room, starts_at=at(DAY, 9)
    )
    assert (
        client.get(
            reverse("exams-sitting", args=[world.unit.public_id, sitting.public_id])
        ).status_code
        == 404
    )
    assert (
        client.get(
            reverse("exams-sitting", args=[world.sibling_unit.public_id, sitting.public_id])
        ).status_code
        == 404
    )
    client.force_login(sibling_head)
    assert (
        client.get(
            reverse("exams-sitting", args=[world.sibling_unit.public_id, sitting.public_id])
        ).status_code
        == 200
    )


@pytest.mark.parametrize("role", [Role.TEACHER, Role.PROCTOR, Role.ASSESSOR, Role.OTHER_STAFF])
def test_staff_without_test_administration_cannot_open_the_preparation_pages(client, world, role):
    client.force_login(world.staff[role])
    for name in (
        "exams-assignments",
        "exams-sittings",
        "exams-rooms",
        "exams-adjustments",
        "exams-exemptions",
    ):
        assert client.get(reverse(name, args=[world.unit.public_id])).status_code == 404


def test_openapi_schema_lists_the_before_the_day_endpoints(client):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/units/{unit}/assignments/",
        "/api/v1/units/{unit}/day-password/",
        "/api/v1/units/{unit}/readiness/",
    ):
        assert path in schema
