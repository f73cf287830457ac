"""Refusals never disclose another unit: for every operation that takes a person, group, room,
sitting or attempt id from input, an id of a sibling unit (same organiser) and a random id give
byte-identical answers — the id itself aside, which some answers echo back."""

from __future__ import annotations

import datetime
import json
import re
import uuid

import pytest
from django.utils import timezone

from delivery import devices
from delivery.models import Attempt, AttemptStatus
from exams.models import Programme
from schools.roles import Role
from tests.delivery.attempt_helpers import make_sitting
from tests.factories import SubtestFactory, TeachingGroupFactory
from tests.schools.test_api_isolation import _seed_unit

API = "/api/v1/units/{unit}/"


@pytest.fixture
def units(world):
    subtest = SubtestFactory()
    other = SubtestFactory(test__programme=Programme.NO_MAPPING)
    own = _seed_unit(world.unit, subtest, other)
    sibling = _seed_unit(world.sibling_unit, subtest, other)
    sibling["group"] = TeachingGroupFactory(school_unit=world.sibling_unit)
    return world, subtest, own, sibling


def _foreign_ids(world, sibling) -> dict[str, str]:
    """Ids of the sibling unit, by the kind of id an operation takes."""
    return {
        "staff": str(world.sibling_head.person.public_id),
        "proctor": str(sibling["proctor"].public_id),
        "student": str(sibling["student"].public_id),
        "group": str(sibling["group"].public_id),
        "room": str(sibling["room"].public_id),
        "sitting": str(sibling["sitting"].public_id),
    }


def _operations(world, subtest, own) -> list[tuple[str, str, str, object]]:
    """(name, method, path, body with "{id}" where the id goes, the kind of id)."""
    unit = API.format(unit=world.unit.public_id)
    sitting = f"{unit}sittings/{own['sitting'].public_id}/"
    decision = {
        "student": str(own["student"].public_id),
        "test": str(subtest.test.public_id),
    }
    return [
        ("add proctor", "post", f"{sitting}proctors/", {"person": "{id}"}, "staff"),
        (
            "add backup proctor",
            "post",
            f"{sitting}proctors/",
            {"person": "{id}", "is_backup": True},
            "staff",
        ),
        ("remove proctor", "delete", f"{sitting}proctors/{{id}}/", None, "proctor"),
        ("remove student", "delete", f"{sitting}students/{{id}}/", None, "student"),
        ("place students", "post", f"{sitting}students/", {"students": ["{id}"]}, "student"),
        (
            "paper replacement",
            "post",
            f"{sitting}paper-replacements/",
            {"student": "{id}"},
            "student",
        ),
        (
            "postpone to a room",
            "post",
            f"{sitting}postpone/",
            {"starts_at": "2030-01-01T09:00:00+01:00", "reason": "x", "room": "{id}"},
            "room",
        ),
        (
            "create sitting with proctor",
            "post",
            f"{unit}sittings/",
            {
                "subtest": str(subtest.public_id),
                "room": str(own["room"].public_id),
                "starts_at": "2030-01-01T09:00:00+01:00",
                "proctors": ["{id}"],
            },
            "staff",
        ),
        (
            "create sitting with backup proctor",
            "post",
            f"{unit}sittings/",
            {
                "subtest": str(subtest.public_id),
                "room": str(own["room"].public_id),
                "starts_at": "2030-01-01T09:00:00+01:00",
                "proctors": [str(own["proctor"].public_id)],
                "backup_proctors": ["{id}"],
            },
            "staff",
        ),
        (
            "create sitting in a room",
            "post",
            f"{unit}sittings/",
            {
                "subtest": str(subtest.public_id),
                "room": "{id}",
                "starts_at": "2030-01-01T09:00:00+01:00",
                "proctors": [str(own["proctor"].public_id)],
            },
            "room",
        ),
        (
            "assign students",
            "post",
            f"{unit}assignments/",
            {"subtest": str(subtest.public_id), "students": ["{id}"]},
            "student",
        ),
        (
            "assign a group",
            "post",
            f"{unit}assignments/",
            {"subtest": str(subtest.public_id), "group": "{id}"},
            "group",
        ),
        ("sittings in a room", "get", f"{unit}sittings/?room={{id}}", None, "room"),
        ("adjustments in a room", "get", f"{unit}adjustments/?room={{id}}", None, "room"),
        (
            "adjustment for a student",
            "post",
            f"{unit}adjustments/",
            {**decision, "student": "{id}", "extended_minutes": 10, "decided_by": "{id}"},
            "student",
        ),
        (
            "adjustment decided by",
            "post",
            f"{unit}adjustments/",
            {**decision, "extended_minutes": 10, "decided_by": "{id}"},
            "staff",
        ),
        (
            "exemption decided by",
            "post",
            f"{unit}exemptions/",
            {
                **decision,
                "ground": "x",
                "decision_reference": "",
                "attested_no_significance": True,
                "decided_by": "{id}",
            },
            "staff",
        ),
        (
            "acknowledge for a sitting",
            "post",
            f"{unit}readiness/acknowledge/",
            {"key": "{key}", "sitting": "{id}"},
            "sitting",
        ),
        (
            "assign a role",
            "post",
            f"/api/v1/units/{world.unit.public_id}/role-assignments/",
            {"person": "{id}", "role": Role.PROCTOR.value},
            "staff",
        ),
    ]


def _fill(value, ident: str):
    return json.loads(json.dumps(value).replace("{id}", ident)) if value is not None else None


def _answer(client, method, path, body, ident) -> tuple[int, bytes]:
    url = path.replace("{id}", ident)
    if method == "get":
        response = client.get(url)
    else:
        response = getattr(client, method)(
            url, data=json.dumps(_fill(body, ident)), content_type="application/json"
        )
    return response.status_code, response.content.replace(ident.encode(), b"<id>")


def test_every_api_operation_answers_another_units_id_like_a_random_one(client, units):
    world, subtest, own, sibling = units
    from exams.preparation.rules import CHECKLIST_KEYS

    client.force_login(world.staff[Role.HEAD_TEACHER])
    foreign = _foreign_ids(world, sibling)
    differing = []
    for name, method, path, body, kind in _operations(world, subtest, own):
        if body is not None:
            body = json.loads(json.dumps(body).replace("{key}", CHECKLIST_KEYS[0]))
        mine = _answer(client, method, path, body, foreign[kind])
        random = _answer(client, method, path, body, str(uuid.uuid4()))
        if mine != random:
            differing.append((name, mine, random))
    assert differing == []


def _page_answer(response, ident: str) -> tuple[int, bytes]:
    """Status and body with the id and the (per-response masked) CSRF token taken out."""
    body = response.content.replace(ident.encode(), b"<id>")
    return response.status_code, re.sub(rb"[A-Za-z0-9]{64}", b"<csrf>", body)


PAGE_ACTIONS = [
    ("add_proctor", "staff"),
    ("remove_proctor", "proctor"),
    ("result_enterer", "staff"),
    ("add_students", "student"),
    ("remove_student", "student"),
    ("paper_replacement", "student"),
]


@pytest.mark.parametrize(("action", "kind"), PAGE_ACTIONS)
def test_sitting_page_actions_answer_another_units_id_like_a_random_one(
    client, units, action, kind
):
    world, _subtest, own, sibling = units
    client.force_login(world.staff[Role.HEAD_TEACHER])
    page = f"/units/{world.unit.public_id}/prepare/sittings/{own['sitting'].public_id}/"
    field = {"add_students": "students", "remove_student": "student"}.get(action, "person")
    field = "student" if action == "paper_replacement" else field
    answers = []
    for ident in (_foreign_ids(world, sibling)[kind], str(uuid.uuid4())):
        response = client.post(page, {"action": action, field: ident})
        answers.append(_page_answer(response, ident))
    assert answers[0] == answers[1]
    assert world.sibling_head.person.full_name.encode() not in answers[0][1]


def test_proctor_actions_answer_another_units_attempt_like_a_random_one(client, world):
    own = make_sitting(world)
    sibling = make_sitting(world, unit=world.sibling_unit, students=world.sibling_students)
    foreign = Attempt.objects.create(sitting=sibling, person=world.sibling_students[0])
    client.force_login(world.staff[Role.PROCTOR])
    page = f"/proctor/sittings/{own.public_id}/actions/pause/"
    answers = []
    for ident in (str(foreign.public_id), str(uuid.uuid4()), "not-a-uuid"):
        response = client.post(page, {"attempt": ident})
        answers.append(_page_answer(response, ident))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 404


def test_autosave_answers_another_units_attempt_like_a_random_id(client, world):
    # given a student working in their own sitting, with their device token
    sibling = make_sitting(world, unit=world.sibling_unit, students=world.sibling_students)
    foreign = Attempt.objects.create(
        sitting=sibling,
        person=world.sibling_students[0],
        status=AttemptStatus.WORKING,
        started_at=timezone.now(),
        deadline=timezone.now() + datetime.timedelta(minutes=30),
    )
    own = make_sitting(world)
    attempt = Attempt.objects.create(sitting=own, person=world.students_a[0])
    _attempt, token, _ = devices.attempt_login(attempt=attempt)
    _attempt, _other, _ = devices.attempt_login(attempt=foreign)
    body = json.dumps({"saves": [{"item": str(uuid.uuid4()), "seq": 1, "content": "x"}]})
    answers = []
    # when they save with their own token against another unit's attempt, and a random id
    for ident in (foreign.public_id, uuid.uuid4()):
        response = client.post(
            f"/api/v1/delivery/attempts/{ident}/saves",
            data=body,
            content_type="application/json",
            headers={"X-Device-Token": token},
        )
        answers.append((response.status_code, response.content))
    # then both answer the same 404
    assert answers[0] == answers[1]
    assert answers[0][0] == 404
