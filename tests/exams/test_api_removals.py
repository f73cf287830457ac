"""Removals through the API: rooms, sitting students and proctors, adjustments, exemptions.

Each goes through the same service as the page (same refusals, same audit row); a role without
the capability and another unit's object both answer 404.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from exams.models import Adjustment, Exemption, Room, Sitting, SittingProctor, SittingStudent
from exams.preparation.assignments import assignments_create
from exams.preparation.sittings import sitting_create
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.exams.helpers import at, norwegian_subtest, person_of, room, subtest_in_window
from tests.factories import RoomFactory

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() + datetime.timedelta(days=2)


def api(unit, path=""):
    return f"/api/v1/units/{unit.public_id}/{path}"


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.staff[Role.TEST_ADMINISTRATOR])
    return client


def _sitting(world, *, backup: bool = True) -> Sitting:
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    subtest = subtest_in_window()
    assignments_create(
        actor=admin, school_unit=world.unit, subtest=subtest, persons=world.students_a
    )
    return sitting_create(
        actor=admin,
        school_unit=world.unit,
        subtest=subtest,
        room=room(world, "Aulan"),
        starts_at=at(DAY, 9),
        proctors=[person_of(world, Role.PROCTOR)],
        backup_proctors=[person_of(world, Role.TEACHER)] if backup else [],
        students=world.students_a,
    ).sitting


def _foreign_sitting(world) -> Sitting:
    return Sitting.objects.create(
        school_unit=world.sibling_unit,
        subtest=subtest_in_window(),
        room=RoomFactory(school_unit=world.sibling_unit),
        starts_at=at(DAY, 9),
    )


# --- rooms --------------------------------------------------------------------------------------


def test_admin_deletes_an_unused_room_and_it_is_audited(admin_client, world):
    unused = room(world, "Labbet")

    response = admin_client.delete(api(world.unit, f"rooms/{unused.public_id}/"))

    assert response.status_code == 204
    assert not Room.objects.filter(pk=unused.pk).exists()
    assert AuditEvent.objects.filter(action="room.delete").count() == 1


def test_a_room_used_by_a_sitting_is_kept_and_the_refusal_says_why(admin_client, world):
    sitting = _sitting(world)

    response = admin_client.delete(api(world.unit, f"rooms/{sitting.room.public_id}/"))

    assert response.status_code == 400
    assert response.json()["detail"] == "The room is used by a sitting."
    assert Room.objects.filter(pk=sitting.room.pk).exists()


@pytest.mark.parametrize("role", [Role.TEACHER, Role.PROCTOR])
def test_staff_without_test_administration_cannot_delete_a_room(client, world, role):
    unused = room(world, "Labbet")
    client.force_login(world.staff[role])

    response = client.delete(api(world.unit, f"rooms/{unused.public_id}/"))

    assert response.status_code == 404
    assert Room.objects.filter(pk=unused.pk).exists()


def test_another_units_room_answers_404(admin_client, world):
    foreign = RoomFactory(school_unit=world.sibling_unit)

    assert admin_client.delete(api(world.unit, f"rooms/{foreign.public_id}/")).status_code == 404
    assert (
        admin_client.delete(api(world.sibling_unit, f"rooms/{foreign.public_id}/")).status_code
        == 404
    )
    assert Room.objects.filter(pk=foreign.pk).exists()


# --- students of a sitting ----------------------------------------------------------------------


def test_admin_removes_a_student_from_a_sitting_with_a_reason(admin_client, world):
    sitting = _sitting(world)
    pupil = world.students_a[0]

    response = admin_client.delete(
        api(world.unit, f"sittings/{sitting.public_id}/students/{pupil.public_id}/?reason=Sjuk")
    )

    assert response.status_code == 204
    assert not SittingStudent.objects.filter(sitting=sitting, person=pupil).exists()
    assert SittingStudent.objects.filter(sitting=sitting).count() == 2
    event = AuditEvent.objects.get(action="sitting.student_remove")
    assert event.reason == "Sjuk"


def test_removing_a_student_not_in_the_sitting_answers_404(admin_client, world):
    sitting = _sitting(world)

    for outsider in (world.students_b[0], world.sibling_students[0]):
        response = admin_client.delete(
            api(world.unit, f"sittings/{sitting.public_id}/students/{outsider.public_id}/")
        )
        assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="sitting.student_remove").exists()


def test_a_teacher_cannot_remove_a_student_from_a_sitting(client, world):
    sitting = _sitting(world)
    pupil = world.students_a[0]
    client.force_login(world.staff[Role.TEACHER])

    response = client.delete(
        api(world.unit, f"sittings/{sitting.public_id}/students/{pupil.public_id}/")
    )

    assert response.status_code == 404
    assert SittingStudent.objects.filter(sitting=sitting, person=pupil).exists()


def test_another_units_sitting_answers_404_when_removing_a_student(admin_client, world):
    foreign = _foreign_sitting(world)
    SittingStudent.objects.create(sitting=foreign, person=world.sibling_students[0])

    response = admin_client.delete(
        api(
            world.sibling_unit,
            f"sittings/{foreign.public_id}/students/{world.sibling_students[0].public_id}/",
        )
    )

    assert response.status_code == 404
    assert SittingStudent.objects.filter(sitting=foreign).exists()


# --- proctors of a sitting ----------------------------------------------------------------------


def test_admin_removes_a_backup_proctor_and_it_is_audited(admin_client, world):
    sitting = _sitting(world)
    backup = person_of(world, Role.TEACHER)

    response = admin_client.delete(
        api(world.unit, f"sittings/{sitting.public_id}/proctors/{backup.public_id}/")
    )

    assert response.status_code == 204
    assert list(sitting.proctorships.values_list("person", flat=True)) == [
        person_of(world, Role.PROCTOR).pk
    ]
    assert AuditEvent.objects.filter(action="sitting.proctor_remove").count() == 1


def test_the_last_proctor_of_a_sitting_cannot_be_removed(admin_client, world):
    sitting = _sitting(world)
    proctor = person_of(world, Role.PROCTOR)

    response = admin_client.delete(
        api(world.unit, f"sittings/{sitting.public_id}/proctors/{proctor.public_id}/")
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "A sitting needs at least one proctor."
    assert SittingProctor.objects.filter(sitting=sitting, person=proctor).exists()


def test_removing_someone_who_does_not_proctor_the_sitting_answers_404(admin_client, world):
    sitting = _sitting(world, backup=False)
    not_a_proctor = person_of(world, Role.TEACHER)

    response = admin_client.delete(
        api(world.unit, f"sittings/{sitting.public_id}/proctors/{not_a_proctor.public_id}/")
    )

    assert response.status_code == 404


def test_a_proctor_cannot_remove_proctors(client, world):
    sitting = _sitting(world)
    backup = person_of(world, Role.TEACHER)
    client.force_login(world.staff[Role.PROCTOR])

    response = client.delete(
        api(world.unit, f"sittings/{sitting.public_id}/proctors/{backup.public_id}/")
    )

    assert response.status_code == 404
    assert sitting.proctorships.count() == 2


def test_another_units_sitting_answers_404_when_removing_a_proctor(admin_client, world):
    sitting = _sitting(world)
    backup = person_of(world, Role.TEACHER)

    response = admin_client.delete(
        api(world.sibling_unit, f"sittings/{sitting.public_id}/proctors/{backup.public_id}/")
    )

    assert response.status_code == 404
    assert sitting.proctorships.count() == 2


# --- adjustments --------------------------------------------------------------------------------


def _adjustment(world, unit=None, person=None, **extra) -> Adjustment:
    subtest = subtest_in_window()
    return Adjustment.objects.create(
        school_unit=unit or world.unit,
        person=person or world.students_a[0],
        test=subtest.test,
        subtest=subtest,
        extended_minutes=15,
        **extra,
    )


def test_head_teacher_removes_an_adjustment_and_it_is_audited(client, world):
    adjustment = _adjustment(world)
    client.force_login(world.staff[Role.HEAD_TEACHER])

    response = client.delete(api(world.unit, f"adjustments/{adjustment.public_id}/"))

    assert response.status_code == 204
    assert not Adjustment.objects.exists()
    assert AuditEvent.objects.filter(action="adjustment.remove").count() == 1


def test_a_locked_adjustment_is_removed_only_with_a_reason(client, world):
    adjustment = _adjustment(world, locked_at=timezone.now())
    client.force_login(world.staff[Role.SCHOOL_ADMINISTRATOR])
    url = api(world.unit, f"adjustments/{adjustment.public_id}/")

    refused = client.delete(url)
    assert refused.status_code == 400
    assert "an administrator must give a reason" in refused.json()["detail"]
    assert Adjustment.objects.exists()

    done = client.delete(url, {"reason": "Fel elev"}, content_type="application/json")
    assert done.status_code == 204
    assert AuditEvent.objects.get(action="adjustment.remove").reason == "Fel elev"


@pytest.mark.parametrize("role", [Role.TEACHER, Role.PROCTOR])
def test_staff_without_the_capability_cannot_remove_an_adjustment(client, world, role):
    adjustment = _adjustment(world)
    client.force_login(world.staff[role])

    response = client.delete(api(world.unit, f"adjustments/{adjustment.public_id}/"))

    assert response.status_code == 404
    assert Adjustment.objects.exists()


def test_another_units_adjustment_answers_404(client, world):
    foreign = _adjustment(world, unit=world.sibling_unit, person=world.sibling_students[0])
    client.force_login(world.staff[Role.HEAD_TEACHER])

    assert client.delete(api(world.unit, f"adjustments/{foreign.public_id}/")).status_code == 404
    assert (
        client.delete(api(world.sibling_unit, f"adjustments/{foreign.public_id}/")).status_code
        == 404
    )
    assert Adjustment.objects.filter(pk=foreign.pk).exists()


# --- exemptions ---------------------------------------------------------------------------------


def _exemption(world, unit=None, person=None) -> Exemption:
    subtest = norwegian_subtest()
    return Exemption.objects.create(
        school_unit=unit or world.unit,
        person=person or world.students_a[0],
        test=subtest.test,
        ground="special_education",
        decision_reference="2027/1",
        attested_no_significance=True,
        decided_by=person_of(world, Role.HEAD_TEACHER),
    )


def test_head_teacher_withdraws_an_exemption_with_a_reason(client, world):
    exemption = _exemption(world)
    client.force_login(world.staff[Role.HEAD_TEACHER])
    url = api(world.unit, f"exemptions/{exemption.public_id}/")

    refused = client.delete(url)
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Give a reason."
    assert Exemption.objects.exists()

    done = client.delete(f"{url}?reason=Beslutet+upphävt")
    assert done.status_code == 204
    assert not Exemption.objects.exists()
    assert AuditEvent.objects.get(action="exemption.remove").reason == "Beslutet upphävt"


@pytest.mark.parametrize("role", [Role.TEACHER, Role.PROCTOR, Role.ASSESSMENT_LEAD])
def test_staff_without_the_capability_cannot_withdraw_an_exemption(client, world, role):
    exemption = _exemption(world)
    client.force_login(world.staff[role])

    response = client.delete(api(world.unit, f"exemptions/{exemption.public_id}/?reason=x"))

    assert response.status_code == 404
    assert Exemption.objects.exists()


def test_another_units_exemption_answers_404(client, world):
    foreign = _exemption(world, unit=world.sibling_unit, person=world.sibling_students[0])
    client.force_login(world.staff[Role.HEAD_TEACHER])

    for unit in (world.unit, world.sibling_unit):
        response = client.delete(api(unit, f"exemptions/{foreign.public_id}/?reason=x"))
        assert response.status_code == 404
    assert Exemption.objects.filter(pk=foreign.pk).exists()


def test_openapi_schema_lists_the_removals(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    for path in (
        "/api/v1/units/{unit}/rooms/{room}/",
        "/api/v1/units/{unit}/sittings/{sitting}/students/{student}/",
        "/api/v1/units/{unit}/sittings/{sitting}/proctors/{person}/",
        "/api/v1/units/{unit}/adjustments/{adjustment}/",
        "/api/v1/units/{unit}/exemptions/{exemption}/",
    ):
        assert "delete" in paths[path], path
