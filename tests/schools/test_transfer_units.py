"""The transfer keeps each school unit's groups, teachers and permissions inside that unit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from provplattform.models import AuditEvent
from schools import selectors
from schools.models import (
    Person,
    SchoolUnit,
    TeachingGroup,
    TeachingGroupUserObjectPermission,
)
from schools.roles import Role
from schools.selectors import teaching_groups_with_results
from schools.transfer.services import transfer_process
from tests.factories import OrganiserFactory, TeachingGroupFactory
from tests.schools.transfer_helpers import UNIT, UNIT_2, person, small_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def organiser():
    return OrganiserFactory()


def two_units() -> dict:
    """The small document plus unit B with its own head teacher, teacher and two students."""
    doc = small_document()
    doc["organisations"].append(
        {
            "id": UNIT_2,
            "displayName": "Björkskolan",
            "organisationType": "Skolenhet",
            "schoolUnitCode": "41000002",
            "schoolTypes": ["GR"],
        }
    )
    doc["persons"] += [
        person("s4", 6, unit=UNIT_2),
        person("s5", 7, unit=UNIT_2),
        person("t2", 8, staff=True),
        person("h2", 9, staff=True),
    ]
    doc["duties"] += [
        {"id": "d3", "person": {"id": "t2"}, "dutyAt": {"id": UNIT_2}, "dutyRole": "Lärare"},
        {"id": "d4", "person": {"id": "h2"}, "dutyAt": {"id": UNIT_2}, "dutyRole": "Rektor"},
    ]
    return doc


def messages(report) -> set[tuple[str, str, str, str]]:
    return {(r["type"], r["id"], r["field"], r["message"]) for r in report["rejected"]}


def test_members_not_enrolled_at_the_groups_unit_are_rejected(organiser):
    transfer_process(organiser=organiser, document=two_units())
    doc = two_units()
    doc["groups"][0]["organisation"] = {"id": UNIT_2}  # 9A moves to B with A's students
    doc["activities"] = []

    report = transfer_process(organiser=organiser, document=doc)

    assert report["status"] == "rejected"
    assert messages(report) == {
        (
            "group",
            "g1",
            "groupMemberships",
            f"Person {sid} is not enrolled at the group's school unit.",
        )
        for sid in ("s1", "s2", "s3")
    }
    assert TeachingGroup.objects.get(external_id="g1").school_unit.external_id == UNIT


def test_members_enrolled_at_the_groups_unit_are_accepted(organiser):
    doc = two_units()
    doc["groups"].append(
        {
            "id": "g2",
            "displayName": "9B",
            "groupType": "Undervisning",
            "schoolType": "GR",
            "organisation": {"id": UNIT_2},
            "groupMemberships": [{"person": {"id": "s4"}}, {"person": {"id": "s5"}}],
        }
    )

    report = transfer_process(organiser=organiser, document=doc)

    assert report["status"] == "applied", report["rejected"]
    assert report["counts"]["group_members"]["created"] == 5


def test_a_stored_student_must_still_be_enrolled_at_the_groups_unit(organiser):
    transfer_process(organiser=organiser, document=two_units())
    # s4 is not sent again: their stored enrolment (at B) decides
    doc = {
        "groups": [
            {
                "id": "g1",
                "displayName": "9A",
                "groupType": "Undervisning",
                "schoolType": "GR",
                "organisation": {"id": UNIT},
                "groupMemberships": [{"person": {"id": "s1"}}, {"person": {"id": "s4"}}],
            }
        ]
    }

    report = transfer_process(organiser=organiser, document=doc)

    assert messages(report) == {
        ("group", "g1", "groupMemberships", "Person s4 is not enrolled at the group's school unit.")
    }


def test_activity_teachers_must_hold_their_duty_at_the_groups_unit(organiser):
    transfer_process(organiser=organiser, document=two_units())
    doc = two_units()
    doc["activities"][0]["teachers"].append({"duty": {"id": "d3"}})  # t2 works at B, 9A is at A

    report = transfer_process(organiser=organiser, document=doc)

    assert report["status"] == "rejected"
    assert messages(report) == {
        ("activity", "a1", "teachers", "Duty d3 is not at the school unit of group g1.")
    }
    t2 = Person.objects.get(external_id="t2")
    assert not teaching_groups_with_results(t2.user).exists()


def test_moving_a_group_to_another_unit_takes_the_old_units_teacher_off_it(organiser, client):
    # given 9A at unit A, taught by t1 (duty at A)
    transfer_process(organiser=organiser, document=two_units())
    t1 = Person.objects.get(external_id="t1")
    t2 = Person.objects.get(external_id="t2")
    group = TeachingGroup.objects.get(external_id="g1")
    assert list(teaching_groups_with_results(t1.user)) == [group]
    # when the organiser moves 9A to unit B, with B's students, taught by t2 (duty at B)
    doc = two_units()
    doc["groups"][0]["organisation"] = {"id": UNIT_2}
    doc["groups"][0]["groupMemberships"] = [{"person": {"id": "s4"}}, {"person": {"id": "s5"}}]
    doc["activities"] = []

    report = transfer_process(organiser=organiser, document=doc, reason="run 2")

    # then t1 is no longer its teacher and sees nothing of it
    assert report["status"] == "applied", report["rejected"]
    assert report["counts"]["group_teachers"]["removed"] == 1
    group.refresh_from_db()
    assert group.school_unit.external_id == UNIT_2
    assert not group.teachers.exists()
    assert not teaching_groups_with_results(t1.user).exists()
    assert not TeachingGroupUserObjectPermission.objects.filter(user=t1.user).exists()
    removal = AuditEvent.objects.get(action="group.teacher_remove", target_id=str(t1.public_id))
    unit_a = SchoolUnit.objects.get(external_id=UNIT)
    unit_b = SchoolUnit.objects.get(external_id=UNIT_2)
    assert removal.scope == unit_a.public_id
    assert removal.before["teacher"] is True and removal.after["teacher"] is False
    assert removal.after["school_unit"] == str(unit_b.public_id)
    assert removal.reason == "run 2"
    # and B's groups page shows B's students only
    client.force_login(Person.objects.get(external_id="h2").user)
    page = client.get(reverse("unit-groups", args=[unit_b.public_id])).content.decode()
    assert "Efternamn6" in page and "Efternamn7" in page
    assert not any(f"Efternamn{n}" in page for n in (1, 2, 3))
    # and a later activity at B makes t2 its teacher
    doc["activities"] = [
        {
            "id": "a2",
            "displayName": "Matematik 9A",
            "activityType": "Undervisning",
            "groups": [{"id": "g1"}],
            "teachers": [{"duty": {"id": "d3"}}],
            "organisation": {"id": UNIT_2},
            "parentActivity": {"id": "p1"},
        }
    ]
    report = transfer_process(organiser=organiser, document=doc)
    assert report["status"] == "applied", report["rejected"]
    assert list(teaching_groups_with_results(t2.user)) == [group]
    assert not teaching_groups_with_results(t1.user).exists()


def test_a_teacher_with_duties_at_both_units_keeps_a_moved_group(organiser):
    doc = two_units()
    doc["duties"].append(
        {"id": "d5", "person": {"id": "t1"}, "dutyAt": {"id": UNIT_2}, "dutyRole": "Lärare"}
    )
    transfer_process(organiser=organiser, document=doc)
    t1 = Person.objects.get(external_id="t1")
    doc["groups"][0]["organisation"] = {"id": UNIT_2}
    doc["groups"][0]["groupMemberships"] = [{"person": {"id": "s4"}}]
    doc["activities"] = []

    report = transfer_process(organiser=organiser, document=doc)

    assert report["status"] == "applied", report["rejected"]
    assert report["counts"]["group_teachers"]["removed"] == 0
    assert [g.external_id for g in teaching_groups_with_results(t1.user)] == ["g1"]


def test_group_permission_counts_only_at_a_unit_where_the_user_teaches(world):
    # given a stray group-level permission on a group of a unit where the teacher holds no role
    teacher = world.staff[Role.TEACHER]
    elsewhere = TeachingGroupFactory(school_unit=world.sibling_unit, name="7C")
    TeachingGroupUserObjectPermission.objects.create(
        user=teacher,
        content_object=elsewhere,
        permission=TeachingGroupUserObjectPermission.objects.get(
            user=teacher, content_object=world.group_a
        ).permission,
    )

    # then only the group of their own unit is listed
    assert set(selectors.teaching_groups_with_results(teacher)) == {world.group_a}


def test_deleting_an_activity_takes_its_teachers_off_the_group(organiser):
    # given 9A taught by t1 through activity a1
    transfer_process(organiser=organiser, document=two_units())
    t1 = Person.objects.get(external_id="t1")
    group = TeachingGroup.objects.get(external_id="g1")
    assert list(teaching_groups_with_results(t1.user)) == [group]

    # when the organiser deletes the activity
    report = transfer_process(
        organiser=organiser, document={"deletedEntities": {"activities": ["a1"]}}, reason="run 2"
    )

    # then t1 is no longer its teacher and loses the group's results, audited and counted
    assert report["status"] == "applied", report["rejected"]
    assert report["counts"]["activities"]["removed"] == 1
    assert report["counts"]["group_teachers"]["removed"] == 1
    assert not group.teachers.exists()
    assert not teaching_groups_with_results(t1.user).exists()
    assert not TeachingGroupUserObjectPermission.objects.filter(user=t1.user).exists()
    removal = AuditEvent.objects.get(action="group.teacher_remove", target_id=str(t1.public_id))
    assert removal.before["group"] == str(group.public_id)
    assert removal.reason == "run 2"
    # and deleting it again is refused: it is no longer known
    again = transfer_process(
        organiser=organiser, document={"deletedEntities": {"activities": ["a1"]}}
    )
    assert messages(again) == {
        ("activity", "a1", "deletedEntities", "Unknown id; nothing to delete.")
    }


def test_deleting_one_activity_keeps_teachers_another_activity_still_gives(organiser):
    doc = two_units()
    second = dict(doc["activities"][0], id="a9", displayName="Svenska 9A")
    doc["activities"].append(second)
    transfer_process(organiser=organiser, document=doc)
    t1 = Person.objects.get(external_id="t1")

    report = transfer_process(
        organiser=organiser, document={"deletedEntities": {"activities": ["a1"]}}
    )

    assert report["status"] == "applied", report["rejected"]
    assert report["counts"]["activities"]["removed"] == 1
    assert report["counts"]["group_teachers"]["removed"] == 0
    assert [g.external_id for g in teaching_groups_with_results(t1.user)] == ["g1"]


def test_activities_sent_twice_are_stored_once(organiser):
    first = transfer_process(organiser=organiser, document=two_units())
    second = transfer_process(organiser=organiser, document=two_units())

    assert first["counts"]["activities"]["created"] == 1
    assert second["counts"]["activities"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 1,
        "removed": 0,
    }


def test_a_membership_without_person_or_a_teacher_without_duty_is_rejected(organiser):
    doc = two_units()
    doc["groups"][0]["groupMemberships"].append({"startDate": "2026-08-15"})
    doc["activities"][0]["teachers"].append({"allocation": 50})

    report = transfer_process(organiser=organiser, document=doc)

    assert report["status"] == "rejected"
    assert messages(report) == {
        ("group", "g1", "groupMemberships[3].person", "A group membership must name its person."),
        ("activity", "a1", "teachers[1].duty", "A teacher of an activity must name their duty."),
    }
    assert not TeachingGroup.objects.exists()
