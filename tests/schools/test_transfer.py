"""The organiser's transfer: parse, check, apply in full or reject with every reason."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.transfer import generate
from provplattform.models import AuditEvent
from schools import hooks
from schools.models import (
    Duty,
    Enrolment,
    GroupMembership,
    Person,
    RoleAssignment,
    RoleSource,
    SchoolUnit,
    SchoolUnitUserObjectPermission,
    TeachingGroup,
    TransferRun,
    TransferSource,
    TransferStatus,
    User,
)
from schools.roles import Capability, Role
from schools.selectors import teaching_groups_with_results, user_has_capability
from schools.services import role_assign, role_remove
from schools.transfer.schema import full_validator, record_is_valid
from schools.transfer.services import transfer_process, transfer_submit
from tests.factories import OrganiserFactory
from tests.schools.transfer_helpers import UNIT, person, sample, small_document

pytestmark = pytest.mark.django_db


def changes(report) -> int:
    return sum(c["created"] + c["updated"] + c["removed"] for c in report["counts"].values())


@pytest.fixture
def organiser():
    return OrganiserFactory()


def test_small_document_creates_everything_and_roles_from_duties(organiser):
    report = transfer_process(organiser=organiser, document=small_document())

    assert report["status"] == "applied", report["rejected"]
    assert report["counts"]["school_units"]["created"] == 1
    assert report["counts"]["persons"]["created"] == 5
    assert report["counts"]["enrolments"]["created"] == 3
    assert report["counts"]["group_members"]["created"] == 3
    assert report["counts"]["group_teachers"]["created"] == 1
    assert report["counts"]["users"]["created"] == 2
    unit = SchoolUnit.objects.get(organiser=organiser, external_id=UNIT)
    teacher = Person.objects.get(organiser=organiser, external_id="t1")
    head = Person.objects.get(organiser=organiser, external_id="h1")
    assert set(RoleAssignment.objects.filter(school_unit=unit).values_list("person", "role")) == {
        (teacher.pk, Role.TEACHER.value),
        (head.pk, Role.HEAD_TEACHER.value),
    }
    assert not teacher.user.has_usable_password()
    assert teacher.user.username == "p4@skola.example"
    # guardian permissions follow the roles: the teacher sees results of the group they teach
    assert user_has_capability(user=teacher.user, school_unit=unit, capability=Capability.PROCTOR)
    assert list(teaching_groups_with_results(teacher.user).values_list("name", flat=True)) == ["9A"]
    assert user_has_capability(user=head.user, school_unit=unit, capability=Capability.ASSIGN_ROLES)
    assert organiser.first_transfer_at is not None


def test_the_same_document_twice_changes_nothing_the_second_time(organiser):
    transfer_process(organiser=organiser, document=small_document())
    audits = AuditEvent.objects.count()

    report = transfer_process(organiser=organiser, document=small_document())

    assert report["status"] == "applied"
    assert changes(report) == 0
    assert report["counts"]["persons"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 5,
        "removed": 0,
    }
    assert AuditEvent.objects.count() == audits


def test_an_update_is_counted_and_applied(organiser):
    transfer_process(organiser=organiser, document=small_document())
    doc = small_document()
    doc["persons"][0]["familyName"] = "Nyberg"
    doc["groups"][0]["groupMemberships"].pop()  # s3 leaves 9A

    report = transfer_process(organiser=organiser, document=doc)

    assert report["counts"]["persons"]["updated"] == 1
    assert report["counts"]["persons"]["unchanged"] == 4
    assert report["counts"]["group_members"]["removed"] == 1
    assert Person.objects.get(external_id="s1").family_name == "Nyberg"
    assert GroupMembership.objects.filter(group__external_id="g1").count() == 2


def test_ss12000_sample_person_with_its_invalid_civic_number_is_rejected(organiser):
    doc = {
        "organisations": [
            {"id": "fa592db1-912b-57fe-8cf6-df5f81522f01", "schoolUnitCode": "41000002"}
        ],
        "persons": [sample("person.json")],
    }

    report = transfer_process(organiser=organiser, document=doc)

    assert report["status"] == "rejected"
    assert report["rejected"] == [
        {
            "type": "person",
            "id": "123456789",
            "field": "civicNo.value",
            "message": "Not a valid personal identity number (check digit or date is wrong).",
        }
    ]
    assert not Person.objects.exists()
    assert not SchoolUnit.objects.filter(organiser=organiser).exists()


def test_ss12000_sample_data_applies_once_references_are_complete(organiser):
    sample_person = sample("person.json")
    sample_person["civicNo"]["value"] = "200112242391"  # the sample's own is not valid
    group = sample("group_json.json")
    member = group["groupMemberships"][0]["person"]["id"]
    doc = {
        "organisations": [
            {
                "id": "fa592db1-912b-57fe-8cf6-df5f81522f01",
                "displayName": "Söderhavets gymnasium",
                "schoolUnitCode": "41000003",
                "schoolTypes": ["GY"],
            },
            {
                "id": group["organisation"]["id"],
                "displayName": "Mumin grundskola",
                "schoolUnitCode": "41000004",
            },
        ],
        "persons": [sample_person, person(member, 7, unit=group["organisation"]["id"])],
        "groups": [group],
    }

    report = transfer_process(organiser=organiser, document=doc)

    assert report["status"] == "applied", report["rejected"]
    enrolment = Enrolment.objects.get(person__external_id="123456789")
    assert (enrolment.school_type, enrolment.school_year) == ("GY", 1)
    stored = Person.objects.get(external_id="123456789")
    assert stored.given_name == "Given Name Test Middle Name Test"
    assert stored.eppn == "elev1@soderhavetsgymnasium.se"
    assert TeachingGroup.objects.get(external_id=group["id"]).members.count() == 1


def test_sample_activity_with_a_list_as_id_is_schema_invalid(organiser):
    doc = sample("activities_invalid.json")

    report = transfer_process(organiser=organiser, document=doc)

    assert report["status"] == "rejected"
    assert {"type": "activity", "id": "#1", "field": "id"} in [
        {k: r[k] for k in ("type", "id", "field")} for r in report["rejected"]
    ]


def test_malformed_json_is_rejected_with_its_position(organiser):
    report = transfer_process(organiser=organiser, document='{"persons": [')

    assert report["status"] == "rejected"
    assert report["rejected"][0]["type"] == "document"
    assert report["rejected"][0]["message"].startswith("Malformed JSON (line 1, column 14)")


def test_every_schema_error_is_listed_and_nothing_applied(organiser):
    doc = small_document()
    del doc["persons"][0]["familyName"]
    doc["groups"][0]["groupType"] = "Kaffegrupp"
    doc["duties"][0]["dutyRole"] = 7

    report = transfer_process(organiser=organiser, document=doc)

    assert report["status"] == "rejected"
    found = {(r["type"], r["id"], r["field"]) for r in report["rejected"]}
    assert ("person", "s1", "") in found
    assert ("group", "g1", "groupType") in found
    assert ("duty", "d1", "dutyRole") in found
    assert not Person.objects.exists()


def test_unknown_references_are_rejected(organiser):
    doc = small_document()
    doc["groups"][0]["groupMemberships"].append({"person": {"id": "ghost"}})
    doc["duties"][0]["dutyAt"] = {"id": "no-such-unit"}
    doc["activities"][0]["groups"].append({"id": "no-such-group"})
    doc["deletedEntities"] = {"persons": ["never-sent"]}

    report = transfer_process(organiser=organiser, document=doc)

    assert report["status"] == "rejected"
    assert [(r["type"], r["id"], r["message"]) for r in report["rejected"]] == [
        ("group", "g1", "Unknown person ghost."),
        ("duty", "d1", "Unknown school unit no-such-unit."),
        ("activity", "a1", "Unknown group no-such-group."),
        ("person", "never-sent", "Unknown id; nothing to delete."),
    ]
    assert not SchoolUnit.objects.filter(organiser=organiser).exists()


def test_duplicate_ids_and_eppns_are_rejected(organiser):
    doc = small_document()
    doc["persons"].append(doc["persons"][0])
    twin = person("s9", 9)
    twin["eduPersonPrincipalNames"] = doc["persons"][1]["eduPersonPrincipalNames"]
    doc["persons"].append(twin)

    report = transfer_process(organiser=organiser, document=doc)

    assert report["status"] == "rejected"
    assert [(r["id"], r["field"], r["message"]) for r in report["rejected"]] == [
        ("s1", "id", "Duplicate id in this transfer."),
        ("s9", "eduPersonPrincipalNames", "Duplicate eppn in this transfer."),
    ]


def test_school_unit_code_of_another_organiser_is_rejected(organiser):
    other = OrganiserFactory()
    transfer_process(organiser=other, document=small_document(code="41000009"))

    report = transfer_process(organiser=organiser, document=small_document(code="41000009"))

    assert report["status"] == "rejected"
    assert any(r["field"] == "schoolUnitCode" for r in report["rejected"])
    # and eppns of the other organiser's persons are taken too
    assert any(r["field"] == "eduPersonPrincipalNames" for r in report["rejected"])


def test_removing_a_person_takes_roles_audited_and_keeps_the_person(organiser):
    transfer_process(organiser=organiser, document=small_document())
    head = Person.objects.get(external_id="h1")
    teacher = Person.objects.get(external_id="t1")
    unit = SchoolUnit.objects.get(external_id=UNIT)
    role_assign(
        actor=head.user, person=teacher, school_unit=unit, role=Role.ASSESSMENT_LEAD
    )  # a manual role
    doc = small_document()
    doc["persons"] = [p for p in doc["persons"] if p["id"] != "t1"]
    doc["duties"] = [d for d in doc["duties"] if d["id"] != "d1"]
    doc["activities"] = []
    doc["deletedEntities"] = {"persons": ["t1"], "duties": ["d1"]}

    report = transfer_process(organiser=organiser, document=doc, reason="run X")

    assert report["status"] == "applied", report["rejected"]
    assert report["counts"]["persons"]["removed"] == 1
    assert report["counts"]["users"]["removed"] == 1
    teacher.refresh_from_db()
    assert teacher.removed_at is not None
    assert not teacher.user.is_active
    assert not RoleAssignment.objects.filter(person=teacher).exists()
    assert not user_has_capability(
        user=teacher.user, school_unit=unit, capability=Capability.PROCTOR
    )
    assert not teaching_groups_with_results(teacher.user).exists()
    revoked = AuditEvent.objects.get(action="role.revoke_all", target_id=str(teacher.public_id))
    assert revoked.before == sorted([Role.ASSESSMENT_LEAD.value, Role.TEACHER.value])
    assert revoked.after == []
    assert AuditEvent.objects.filter(action="person.remove").count() == 1
    # The same removal again changes nothing.
    again = transfer_process(organiser=organiser, document={"deletedEntities": {"persons": ["t1"]}})
    assert again["status"] == "applied"
    assert changes(again) == 0


def test_manual_roles_stay_when_duties_change(organiser):
    transfer_process(organiser=organiser, document=small_document())
    head = Person.objects.get(external_id="h1")
    teacher = Person.objects.get(external_id="t1")
    unit = SchoolUnit.objects.get(external_id=UNIT)
    role_assign(actor=head.user, person=teacher, school_unit=unit, role=Role.ASSESSMENT_LEAD)
    doc = small_document()
    doc["duties"][0]["dutyRole"] = "Kurator"

    report = transfer_process(organiser=organiser, document=doc)

    assert report["counts"]["roles"]["created"] == 1
    assert report["counts"]["roles"]["removed"] == 1
    assert dict(RoleAssignment.objects.filter(person=teacher).values_list("role", "source")) == {
        Role.ASSESSMENT_LEAD.value: RoleSource.MANUAL,
        Role.OTHER_STAFF.value: RoleSource.TRANSFER,
    }
    sync = AuditEvent.objects.filter(action="role.transfer_sync", target_id=str(teacher.public_id))
    assert sync.latest("id").after == sorted([Role.ASSESSMENT_LEAD.value, Role.OTHER_STAFF.value])


def test_a_transfer_role_the_school_removed_stays_removed_until_the_duty_changes(organiser):
    # given the teacher's Lärare role, from the transfer, taken away by the head teacher
    transfer_process(organiser=organiser, document=small_document())
    head = Person.objects.get(external_id="h1")
    teacher = Person.objects.get(external_id="t1")
    unit = SchoolUnit.objects.get(external_id=UNIT)
    role_remove(actor=head.user, person=teacher, school_unit=unit, role=Role.TEACHER)
    assert not user_has_capability(
        user=teacher.user, school_unit=unit, capability=Capability.PROCTOR
    )

    syncs = AuditEvent.objects.filter(action="role.transfer_sync", target_id=str(teacher.public_id))
    synced_before = syncs.count()

    # when a later run changes another person's duty (and sends the teacher's duty unchanged)
    doc = small_document()
    doc["duties"][1]["dutyRole"] = "Skoladministratör"
    report = transfer_process(organiser=organiser, document=doc)

    # then the role stays removed
    assert report["status"] == "applied", report["rejected"]
    assert list(RoleAssignment.objects.filter(person=head).values_list("role", flat=True)) == [
        Role.SCHOOL_ADMINISTRATOR.value
    ]
    assert not RoleAssignment.objects.filter(person=teacher).exists()
    assert not user_has_capability(
        user=teacher.user, school_unit=unit, capability=Capability.PROCTOR
    )
    assert syncs.count() == synced_before

    # when a run changes the teacher's own duty role
    doc["duties"][0]["dutyRole"] = "Förstelärare"
    report = transfer_process(organiser=organiser, document=doc, reason="run 3")

    # then the role comes back from the transfer, audited as a transfer sync
    assert report["counts"]["roles"]["created"] == 1
    assert dict(RoleAssignment.objects.filter(person=teacher).values_list("role", "source")) == {
        Role.TEACHER.value: RoleSource.TRANSFER
    }
    assert user_has_capability(user=teacher.user, school_unit=unit, capability=Capability.PROCTOR)
    sync = syncs.latest("id")
    assert (sync.before, sync.after, sync.reason) == ([], [Role.TEACHER.value], "run 3")


def test_a_removed_person_sent_again_gets_the_roles_of_their_unchanged_duties(organiser):
    transfer_process(organiser=organiser, document=small_document())
    teacher = Person.objects.get(external_id="t1")
    transfer_process(organiser=organiser, document={"deletedEntities": {"persons": ["t1"]}})
    assert not RoleAssignment.objects.filter(person=teacher).exists()

    report = transfer_process(organiser=organiser, document=small_document())

    assert report["status"] == "applied", report["rejected"]
    assert list(RoleAssignment.objects.filter(person=teacher).values_list("role", flat=True)) == [
        Role.TEACHER.value
    ]


def test_ten_thousand_persons_in_one_run(organiser):
    doc = generate(persons=10_000, groups=400, duties=1_000, seed="t")

    report = transfer_process(organiser=organiser, document=json.dumps(doc))

    assert report["status"] == "applied", report["rejected"][:3]
    assert report["records"] == 4 + 10_000 + 400 + 1_000 + 400
    assert report["counts"]["persons"]["created"] == 10_000
    assert report["counts"]["enrolments"]["created"] == 9_000
    assert report["counts"]["groups"]["created"] == 400
    assert report["counts"]["group_members"]["created"] == 9_000
    assert report["counts"]["duties"]["created"] == 1_000
    assert report["counts"]["users"]["created"] == 1_000
    assert report["counts"]["roles"]["created"] == 1_000
    assert Person.objects.filter(organiser=organiser).count() == 10_000
    assert User.objects.filter(person__organiser=organiser).count() == 1_000
    assert Person.objects.filter(protected_identity=True).count() == 11


def _sitting_in(days: float):
    def provider(org):
        return {
            unit_id: timezone.now() + datetime.timedelta(days=days)
            for unit_id in SchoolUnit.objects.filter(organiser=org).values_list("id", flat=True)
        }

    return provider


@pytest.fixture
def calendar():
    with hooks.sitting_calendar.replaced() as hook:

        def use(provider):
            hook.clear()
            hook.subscribe(provider)

        yield use


def test_first_transfer_less_than_30_days_before_a_sitting_is_flagged(organiser, calendar):
    calendar(_sitting_in(20))

    report = transfer_process(organiser=organiser, document=small_document())

    assert report["status"] == "applied"
    assert [(f["code"], f["school_unit"], f["limit_days"]) for f in report["flags"]] == [
        ("first_transfer_late", UNIT, 30)
    ]
    assert report["flags"][0]["days_before"] == 20


def test_changes_less_than_7_days_before_a_sitting_are_flagged(organiser, calendar):
    calendar(_sitting_in(60))
    first = transfer_process(organiser=organiser, document=small_document())
    assert first["flags"] == []
    calendar(_sitting_in(5))

    unchanged = transfer_process(organiser=organiser, document=small_document())
    doc = small_document()
    doc["persons"][0]["enrolments"][0]["schoolYear"] = 8
    changed = transfer_process(organiser=organiser, document=doc)

    assert unchanged["flags"] == []
    assert [(f["code"], f["school_unit"]) for f in changed["flags"]] == [("late_change", UNIT)]


def test_changes_well_before_a_sitting_are_not_flagged(organiser, calendar):
    calendar(_sitting_in(10))
    transfer_process(organiser=organiser, document=small_document())  # first: flagged
    doc = small_document()
    doc["persons"][0]["familyName"] = "Ek"

    report = transfer_process(organiser=organiser, document=doc)

    assert report["flags"] == []


def test_a_submitted_run_is_queued_then_applied_and_calls_subscribers(
    organiser, django_capture_on_commit_callbacks
):
    seen = []
    with (
        hooks.transfer_applied.subscribed(lambda org, run: seen.append((org.pk, run.pk))),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = transfer_submit(
            organiser=organiser,
            source=TransferSource.API,
            payload={"text": json.dumps(small_document())},
        )

    run.refresh_from_db()
    assert run.status == TransferStatus.APPLIED
    assert run.progress_done == run.progress_total == 2 * 10
    assert run.report["counts"]["persons"]["created"] == 5
    assert seen == [(organiser.pk, run.pk)]
    assert Duty.objects.filter(school_unit__organiser=organiser).count() == 2


def test_a_rejected_run_keeps_its_report_in_the_history(
    organiser, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        transfer_submit(organiser=organiser, source=TransferSource.API, payload={"text": "{"})

    run = TransferRun.objects.get(organiser=organiser)
    assert run.status == TransferStatus.REJECTED
    assert run.report["rejected"][0]["message"].startswith("Malformed JSON")


def _enrolled(**enrolment) -> dict:
    return {**person("x", 1), "enrolments": [{"enroledAt": {"id": "u"}, **enrolment}]}


@pytest.mark.parametrize(
    "kind,record",
    [
        ("persons", small_document()["persons"][0]),
        ("persons", {**small_document()["persons"][0], "securityMarking": "Hemlig"}),
        ("persons", {**small_document()["persons"][0], "eduPersonPrincipalNames": []}),
        ("persons", _enrolled(schoolType="GR")),
        ("persons", _enrolled(schoolType="GR", schoolYear=11)),
        ("persons", _enrolled(schoolType="GY")),
        ("persons", _enrolled(schoolType="GR", schoolYear=True)),
        ("groups", small_document()["groups"][0]),
        ("groups", {**small_document()["groups"][0], "groupMemberships": [{"person": {}}]}),
        ("activities", sample("activity.json")),
        ("activities", sample("activities_invalid.json")["activities"][0]),
        ("duties", {"id": "d", "person": {"id": "p"}, "dutyAt": {"id": 5}, "dutyRole": "Rektor"}),
        ("organisations", {"id": "o"}),
        ("organisations", "not an object"),
    ],
)  # fmt: skip
def test_compiled_schema_check_agrees_with_jsonschema(kind, record):
    expected = not any(True for _ in full_validator(kind).iter_errors(record))
    assert record_is_valid(kind, record) is expected


def _with_extra_staff(count: int) -> dict:
    doc = small_document()
    for n in range(count):
        doc["persons"].append(person(f"x{n}", 100 + n, staff=True))
        doc["duties"].append(
            {
                "id": f"dx{n}",
                "person": {"id": f"x{n}"},
                "dutyAt": {"id": UNIT},
                "dutyRole": "Lärare",
            }
        )
    return doc


def _remove_extra_staff(organiser, numbers: range) -> tuple[dict, int]:
    doc = small_document()
    doc["deletedEntities"] = {
        "persons": [f"x{n}" for n in numbers],
        "duties": [f"dx{n}" for n in numbers],
    }
    with CaptureQueriesContext(connection) as queries:
        report = transfer_process(organiser=organiser, document=doc, reason=f"run {len(numbers)}")
    return report, len(queries)


def test_removing_many_persons_takes_no_query_per_person(organiser):
    # given 42 more teachers, each with a login and a role
    transfer_process(organiser=organiser, document=_with_extra_staff(42))
    # when one run removes 2 of them and the next 40
    few, few_queries = _remove_extra_staff(organiser, range(2))
    many, many_queries = _remove_extra_staff(organiser, range(2, 42))
    # then both applied, every role removal is counted and audited, and the work is set-based
    assert few["status"] == many["status"] == "applied"
    assert many["counts"]["persons"]["removed"] == 40
    assert many["counts"]["roles"]["removed"] == 40
    assert many["counts"]["users"]["removed"] == 40
    revoked = AuditEvent.objects.filter(action="role.revoke_all", reason="run 40")
    assert revoked.count() == 40
    assert {tuple(e.before) for e in revoked} == {(Role.TEACHER.value,)}
    assert all(e.after == [] for e in revoked)
    assert many_queries == few_queries
    assert not RoleAssignment.objects.filter(person__removed_at__isnull=False).exists()
    assert not SchoolUnitUserObjectPermission.objects.filter(
        user__person__removed_at__isnull=False
    ).exists()
