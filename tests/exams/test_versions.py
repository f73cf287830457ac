"""A corrected version replaces the published one: students who have not started move to it."""

from __future__ import annotations

import copy
import datetime

import pytest
from django.utils import timezone

from exams.definitions import services as definition_services
from exams.definitions.format import parse_definition
from exams.definitions.rules import DefinitionRefused
from exams.models import (
    Adjustment,
    Assignment,
    DefinitionStatus,
    Exemption,
    ExemptionGround,
    Programme,
    Registration,
    Sitting,
)
from exams.preparation.assignments import assignments_create, assignments_sync_mandatory
from exams.preparation.common import ExamRefused
from exams.preparation.decisions import adjustment_set, adjustments_lock
from exams.preparation.sittings import sitting_create
from exams.preparation.versions import assignments_follow_new_version
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.exams.helpers import at, room
from tests.exams.test_definitions import good
from tests.factories import SubtestFactory, TestDefinitionFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = TODAY + datetime.timedelta(days=3)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def operator(db):
    return UserFactory(username="operator", is_platform_operator=True)


def _publish_first(operator):
    data = copy.deepcopy(good()) | {"grade": 9, "window": {"start": "today", "end": "+30d"}}
    data["subtests"][1]["window"] = {"start": "today", "end": "+20d"}
    spec, problems = parse_definition(data, today=TODAY)
    assert problems == []
    test = definition_services.test_create(actor=operator, spec=spec)
    return definition_services.test_publish(actor=operator, test=test)


def _codes_held(person) -> list[tuple[str, int]]:
    return sorted(
        Assignment.objects.filter(person=person).values_list(
            "subtest__code", "subtest__test__version"
        )
    )


def test_publishing_a_correction_moves_students_who_have_not_started(world, operator):
    # given version 1, assigned to every student of the grade, one student has started B,
    # another has extended time on B, and a sitting of B is planned for two others
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    v1 = _publish_first(operator)
    assignments_sync_mandatory(school_unit=world.unit)
    b1 = v1.subtests.get(code="B")
    started, extended, *others = world.students_a + world.students_b
    head = world.staff[Role.HEAD_TEACHER].person
    adjustment_set(
        actor=admin,
        school_unit=world.unit,
        person=started,
        test=v1,
        extended_percent=25,
        decided_by=head,
    )
    adjustments_lock(person=started, subtest=b1)
    Registration.objects.create(school_unit=world.unit, test=v1)
    adjustment_set(
        actor=admin,
        school_unit=world.unit,
        person=extended,
        test=v1,
        subtest=b1,
        extended_minutes=20,
        decided_by=head,
    )
    sitting = sitting_create(
        actor=admin,
        school_unit=world.unit,
        subtest=b1,
        room=room(world),
        starts_at=at(DAY, 9),
        proctors=[world.staff[Role.PROCTOR].person],
        students=others[:2],
    ).sitting

    # when the operator publishes a corrected version 2
    v2 = definition_services.test_new_version(actor=operator, test=v1)
    v2 = definition_services.test_publish(actor=operator, test=v2)

    # then version 1 is retired and everyone but the started student holds version 2 only
    v1.refresh_from_db()
    assert v1.status == DefinitionStatus.RETIRED
    assert assignments_sync_mandatory(school_unit=world.unit) == 0
    assert _codes_held(started) == [("A", 2), ("B", 1)]
    for person in [extended, *others]:
        assert _codes_held(person) == [("A", 2), ("B", 2)]
    assert Sitting.objects.get(pk=sitting.pk).subtest == v2.subtests.get(code="B")
    moved = Adjustment.objects.get(person=extended)
    assert (moved.test, moved.subtest.code, moved.extended_minutes) == (v2, "B", 20)
    # the started student keeps the locked decision on what they sat, and has it for version 2
    copies = {a.test.version: a for a in Adjustment.objects.filter(person=started)}
    assert copies[1].locked_at is not None and copies[2].locked_at is None
    assert copies[2].extended_percent == 25
    assert Registration.objects.get(school_unit=world.unit).test == v2
    kept = AuditEvent.objects.get(action="assignment.kept_on_old_version")
    assert "already started" in kept.reason
    refused = assignments_create(
        actor=admin, school_unit=world.unit, subtest=v2.subtests.get(code="B"), persons=[started]
    )
    assert refused.refused[0]["reason"] == "Has already sat an earlier version of this subtest."
    assert AuditEvent.objects.filter(action="assignment.new_version").count() == 2 * 6 - 1


def test_the_retired_version_can_no_longer_be_assigned(world, operator):
    admin = world.staff[Role.TEST_ADMINISTRATOR]
    v1 = _publish_first(operator)
    definition_services.test_publish(
        actor=operator, test=definition_services.test_new_version(actor=operator, test=v1)
    )
    v1.refresh_from_db()
    with pytest.raises(ExamRefused, match="not published"):
        assignments_create(
            actor=admin,
            school_unit=world.unit,
            subtest=v1.subtests.get(code="A"),
            persons=world.students_a,
        )


def test_an_older_draft_cannot_be_published_over_a_newer_version(operator):
    v1 = _publish_first(operator)
    v2 = definition_services.test_new_version(actor=operator, test=v1)
    v3 = definition_services.test_new_version(actor=operator, test=v1)
    definition_services.test_publish(actor=operator, test=v3)
    with pytest.raises(DefinitionRefused, match="newer version"):
        definition_services.test_publish(actor=operator, test=v2)
    v1.refresh_from_db()
    assert v1.status == DefinitionStatus.RETIRED


def test_automatic_assignment_takes_only_the_newest_published_version(world):
    old = TestDefinitionFactory(code="np-ma9", version=1)
    new = TestDefinitionFactory(code="np-ma9", version=2)
    SubtestFactory(test=old, code="A")
    SubtestFactory(test=new, code="A")

    assignments_sync_mandatory(school_unit=world.unit)

    for person in world.students_a:
        assert _codes_held(person) == [("A", 2)]


def test_an_exempt_student_stays_exempt_in_the_new_version(world):
    unit = world.other_org_unit  # Norwegian
    old = TestDefinitionFactory(code="kartlegging-les", version=1, programme=Programme.NO_MAPPING)
    new = TestDefinitionFactory(code="kartlegging-les", version=2, programme=Programme.NO_MAPPING)
    SubtestFactory(test=old, code="A")
    SubtestFactory(test=new, code="A")
    exempt, other = world.other_org_students
    Exemption.objects.create(
        school_unit=unit,
        person=exempt,
        test=old,
        ground=ExemptionGround.SPECIAL_EDUCATION,
        decision_reference="2027/7",
        attested_no_significance=True,
    )
    old.status = DefinitionStatus.RETIRED
    old.save()

    assignments_follow_new_version(actor=None, old=old, new=new)
    assignments_sync_mandatory(school_unit=unit)

    assert Exemption.objects.get(person=exempt).test == new
    assert _codes_held(exempt) == []
    assert _codes_held(other) == [("A", 2)]
