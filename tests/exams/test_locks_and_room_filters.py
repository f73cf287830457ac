"""Rules that hold after the student has started, programme checks on every preparation, room
filters on every list, and bulk requests that never drop a student silently."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from exams import readiness
from exams.models import Adjustment, Exemption, Sitting, SubtestStart
from exams.preparation.assignments import assignments_create
from exams.preparation.common import ExamRefused
from exams.preparation.decisions import adjustment_set, adjustments_lock, exemption_create
from exams.preparation.sittings import sitting_create
from provplattform.models import AuditEvent
from schools.models import RoleAssignment
from schools.roles import Role
from schools.services import role_assign
from tests.exams.helpers import at, norwegian_subtest, room, subtest_in_window
from tests.factories import RoomFactory, SubtestFactory, staff_member, student

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() + datetime.timedelta(days=2)


def api(unit, path=""):
    return f"/api/v1/units/{unit.public_id}/{path}"


def admin(world):
    return world.staff[Role.TEST_ADMINISTRATOR]


def head(world):
    return world.staff[Role.HEAD_TEACHER].person


def enter(world, test, *, subtest=None, **kwargs):
    kwargs.setdefault("decided_by", head(world))
    return adjustment_set(
        actor=kwargs.pop("actor", admin(world)),
        school_unit=world.unit,
        person=kwargs.pop("person", world.students_a[0]),
        test=test,
        subtest=subtest,
        **kwargs,
    )


def placed(world, subtest, students, name="Aulan", hour=9):
    assignments_create(
        actor=admin(world), school_unit=world.unit, subtest=subtest, persons=students
    )
    return sitting_create(
        actor=admin(world),
        school_unit=world.unit,
        subtest=subtest,
        room=room(world, name),
        starts_at=at(DAY, hour),
        proctors=[world.staff[Role.PROCTOR].person],
        students=students,
    ).sitting


# --- locked once the student has started ---------------------------------------------------------


def test_adjustment_entered_after_the_student_started_is_a_change_on_the_day(world):
    # given a student who started without any adjustment
    subtest = subtest_in_window()
    assert adjustments_lock(person=world.students_a[0], subtest=subtest) == 0
    assert SubtestStart.objects.filter(person=world.students_a[0], subtest=subtest).exists()
    # when a new adjustment is entered without a reason, it is refused
    with pytest.raises(ExamRefused, match="give a reason"):
        enter(world, subtest.test, subtest=subtest, extended_minutes=15)
    assert not Adjustment.objects.exists()
    # then an administrator's change with a reason is accepted, locked and audited as on the day
    adjustment = enter(
        world, subtest.test, subtest=subtest, extended_minutes=15, reason="Beslut på provdagen"
    )
    assert adjustment.locked_at is not None
    event = AuditEvent.objects.get(action="adjustment.change_on_day")
    assert event.reason == "Beslut på provdagen" and event.before is None
    assert not AuditEvent.objects.filter(action="adjustment.create").exists()
    # another student, who has not started, is not affected
    enter(world, subtest.test, subtest=subtest, person=world.students_a[1], extended_minutes=5)


def test_whole_test_adjustment_is_locked_once_any_of_its_subtests_started(world):
    first = subtest_in_window()
    SubtestFactory(test=first.test)
    adjustments_lock(person=world.students_a[0], subtest=first)
    with pytest.raises(ExamRefused, match="give a reason"):
        enter(world, first.test, tools=["text_to_speech"])
    # a subtest not yet started can still be adjusted in the ordinary way
    second = first.test.subtests.exclude(pk=first.pk).get()
    enter(world, first.test, subtest=second, extended_minutes=10)
    assert AuditEvent.objects.filter(action="adjustment.create").count() == 1


def test_locking_twice_records_the_start_once(world):
    subtest = subtest_in_window()
    adjustments_lock(person=world.students_a[0], subtest=subtest)
    adjustments_lock(person=world.students_a[0], subtest=subtest)
    assert SubtestStart.objects.count() == 1


@pytest.fixture
def norway(world):
    unit = world.other_org_unit
    head_user = staff_member(unit, duty_role="Rektor")
    role_assign(actor=None, person=head_user.person, school_unit=unit, role=Role.HEAD_TEACHER)
    return unit, head_user, student(unit)


def exempt(unit, head_user, person, test, subtest=None):
    return exemption_create(
        actor=head_user,
        school_unit=unit,
        person=person,
        test=test,
        subtest=subtest,
        ground="special_education",
        decision_reference="2027/114",
        attested_no_significance=True,
        decided_by=head_user.person,
    )


def test_a_student_who_started_cannot_be_exempted_afterwards(norway):
    # exempting afterwards would take an existing result out of the statistics
    unit, head_user, pupil = norway
    subtest = norwegian_subtest()
    other = SubtestFactory(test=subtest.test)
    adjustments_lock(person=pupil, subtest=subtest)
    with pytest.raises(ExamRefused, match="already started"):
        exempt(unit, head_user, pupil, subtest.test)
    with pytest.raises(ExamRefused, match="already started"):
        exempt(unit, head_user, pupil, subtest.test, subtest)
    assert not Exemption.objects.exists()
    # a subtest not yet started may still be exempted
    exempt(unit, head_user, pupil, subtest.test, other)


# --- the test must be given in the unit's country ------------------------------------------------


def test_exemption_for_a_norwegian_test_at_a_swedish_unit_is_refused(world):
    subtest = norwegian_subtest()
    with pytest.raises(ExamRefused, match="country"):
        exempt(world.unit, world.staff[Role.HEAD_TEACHER], world.students_a[0], subtest.test)


def test_sitting_and_adjustment_for_another_countrys_test_are_refused(world):
    subtest = norwegian_subtest()
    with pytest.raises(ExamRefused, match="country"):
        sitting_create(
            actor=admin(world),
            school_unit=world.unit,
            subtest=subtest,
            room=room(world),
            starts_at=at(DAY, 9),
            proctors=[world.staff[Role.PROCTOR].person],
        )
    with pytest.raises(ExamRefused, match="country"):
        enter(world, subtest.test, subtest=subtest, extended_minutes=10)
    assert not Sitting.objects.exists() and not Adjustment.objects.exists()


# --- bulk requests never drop a student silently -------------------------------------------------


def test_sitting_api_lists_unknown_and_foreign_students_as_refused(client, world):
    subtest = subtest_in_window()
    assignments_create(
        actor=admin(world), school_unit=world.unit, subtest=subtest, persons=world.students_a
    )
    client.force_login(admin(world))
    foreign, unknown = world.sibling_students[0], uuid.uuid4()
    created = client.post(
        api(world.unit, "sittings/"),
        {
            "subtest": str(subtest.public_id),
            "room": str(room(world).public_id),
            "starts_at": at(DAY, 9).isoformat(),
            "proctors": [str(world.staff[Role.PROCTOR].person.public_id)],
            "students": [str(world.students_a[0].public_id), str(foreign.public_id)],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    summary = created.json()["students"]
    assert summary["changed_count"] == 1
    assert summary["refused"] == [
        {
            "person": str(foreign.public_id),
            "name": "",
            "reason": "Not enrolled at this school unit.",
        }
    ]
    sitting = created.json()["sitting"]["id"]
    added = client.post(
        api(world.unit, f"sittings/{sitting}/students/"),
        {"students": [str(world.students_a[1].public_id), str(unknown)]},
        content_type="application/json",
    )
    assert added.json()["changed_count"] == 1
    assert [r["person"] for r in added.json()["refused"]] == [str(unknown)]


def test_sitting_page_lists_students_of_another_unit_as_refused(client, world):
    sitting = placed(world, subtest_in_window(), world.students_a[:1])
    client.force_login(admin(world))
    response = client.post(
        reverse("exams-sitting", args=[world.unit.public_id, sitting.public_id]),
        {"action": "add_students", "students": [str(world.sibling_students[0].public_id), "x"]},
    )
    refused = response.context["summary"].refused
    assert [r["person"] for r in refused] == [str(world.sibling_students[0].public_id), "x"]


@pytest.mark.parametrize("path", ["sittings/?room=abc", "assignments/?subtest=abc"])
def test_a_malformed_id_in_a_filter_answers_404_not_500(client, world, path):
    client.force_login(admin(world))
    assert client.get(api(world.unit, path)).status_code == 404
    page = reverse("exams-sittings", args=[world.unit.public_id])
    assert client.get(page, {"room": "abc"}).status_code == 404


# --- every list filters by room ------------------------------------------------------------------


def test_adjustment_api_filters_by_room(client, world):
    subtest = subtest_in_window()
    placed(world, subtest, world.students_a[:1], "Aulan")
    placed(world, subtest, world.students_a[1:2], "Labbet", hour=13)
    for person in world.students_a[:2]:
        enter(world, subtest.test, subtest=subtest, person=person, extended_minutes=10)
    client.force_login(admin(world))
    hall = room(world, "Aulan")
    rows = client.get(api(world.unit, f"adjustments/?room={hall.public_id}")).json()
    assert [r["student"]["id"] for r in rows] == [str(world.students_a[0].public_id)]
    foreign = RoomFactory(school_unit=world.sibling_unit)
    assert client.get(api(world.unit, f"adjustments/?room={foreign.public_id}")).status_code == 404


def test_exemption_page_and_api_filter_by_room(client, norway):
    unit, head_user, pupil = norway
    other_pupil = student(unit)
    subtest = norwegian_subtest()
    oral = SubtestFactory(test=subtest.test)
    hall, lab = RoomFactory(school_unit=unit), RoomFactory(school_unit=unit)
    for person, where in ((pupil, hall), (other_pupil, lab)):
        assignments_create(actor=head_user, school_unit=unit, subtest=oral, persons=[person])
        sitting_create(
            actor=head_user,
            school_unit=unit,
            subtest=oral,
            room=where,
            starts_at=at(DAY, 9 if where == hall else 13),
            proctors=[head_user.person],
            students=[person],
        )
        exempt(unit, head_user, person, subtest.test, subtest)
    client.force_login(head_user)
    rows = client.get(api(unit, f"exemptions/?room={hall.public_id}")).json()
    assert [r["student"]["id"] for r in rows] == [str(pupil.public_id)]
    page = client.get(reverse("exams-exemptions", args=[unit.public_id]), {"room": lab.public_id})
    assert [e.person for e in page.context["exemptions"]] == [other_pupil]
    assert "room-filter" in page.content.decode()


def test_readiness_page_print_and_api_filter_by_room(client, world):
    subtest = subtest_in_window()
    placed(world, subtest, world.students_a[:1], "Aulan")
    placed(world, subtest, world.students_a[1:2], "Labbet", hour=13)
    hall = room(world, "Aulan")
    client.force_login(admin(world))
    page = client.get(reverse("exams-readiness", args=[world.unit.public_id]), {"room": hall.pk})
    assert page.status_code == 404  # a room is named by its public id
    page = client.get(
        reverse("exams-readiness", args=[world.unit.public_id]), {"room": hall.public_id}
    )
    assert [r.sitting.room for r in page.context["sittings"]] == [hall]
    printable = client.get(
        reverse("exams-readiness-print", args=[world.unit.public_id]), {"room": hall.public_id}
    )
    assert len(printable.context["sittings"]) == 1
    rows = client.get(api(world.unit, f"readiness/?room={hall.public_id}")).json()
    assert [r["sitting"]["room"]["name"] for r in rows] == ["Aulan"]


# --- readiness: a proctor who loses the role -----------------------------------------------------


def test_a_proctor_who_lost_the_role_turns_the_proctor_check_red(world):
    sitting = placed(world, subtest_in_window(), world.students_a)
    checks = {c.key: c for c in readiness.sitting_readiness(sitting).checks}
    assert checks["proctor"].state == "green"
    RoleAssignment.objects.filter(person=world.staff[Role.PROCTOR].person).delete()
    checks = {c.key: c for c in readiness.sitting_readiness(sitting).checks}
    assert checks["proctor"].state == "red"
    assert checks["proctor"].fix_url.endswith(f"/sittings/{sitting.public_id}/")


# --- registration before its window opens ------------------------------------------------------


def test_registration_before_its_window_opens_is_refused(world):
    from exams.models import Registration
    from exams.preparation.assignments import registration_create
    from tests.factories import TestDefinitionFactory

    today = timezone.localdate()
    test = TestDefinitionFactory(
        mandatory=False,
        registration_opens=today + datetime.timedelta(days=3),
        registration_closes=today + datetime.timedelta(days=20),
    )
    SubtestFactory(test=test)
    with pytest.raises(ExamRefused, match="Registration is open from"):
        registration_create(actor=admin(world), school_unit=world.unit, test=test)
    assert not Registration.objects.exists()
