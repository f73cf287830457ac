# ruff: noqa: E501  (the table of probes reads best one operation a line)
"""Every page and API operation of the desk, second marking and result entry, for every role at
the own unit and at a sibling unit (and for an outsider): allowed exactly where the role table
gives the capability, 404 at another unit — never 403, never data.

Objects the operation names (a score, a second marking, an upload) are made for the probing
user wherever the operation needs them to be theirs, so a refusal shows that the role, not a
missing assignment, decides."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from grading.models import EntryImport, Score, ScoreSource, SecondMarking
from schools.roles import Capability, Role, capabilities_of
from schools.services import role_assign
from tests.factories import TeachingGroupFactory, staff_member
from tests.grading.desk_helpers import assign_all, graded_subtest, submitted_attempts
from tests.permission_probes import Outcome, outcome_of

ASSESS = {Capability.ASSESS}
LEAD = {Capability.PREPARE_GRADING}
ENTRY = {Capability.ASSESS, Capability.PREPARE_GRADING}
# Overriding a machine score: the lead, or an assessor with a response of the same attempt
# (Setup always gives the user one, so either capability allows it here).


class Setup:
    """Objects at `unit`: a score assigned to `user`, its attempt's machine score, a second
    marking `user` is to do (already scored by both, for the decision), a group, an upload."""

    def __init__(self, unit, user):
        subtest, items = graded_subtest(open_items=2, closed_items=1)
        attempt = submitted_attempts(unit=unit, subtest=subtest, items=items, count=1)[0]
        first, second = list(Score.objects.filter(attempt=attempt, source=ScoreSource.PERSON))
        other = staff_member(unit, duty_role="Lärare").person
        role_assign(actor=None, person=other, school_unit=unit, role=Role.ASSESSOR)
        person = getattr(user, "person", None) or other
        assign_all(unit=unit, subtest=subtest, assessor_person=person, scores=[first])
        assign_all(unit=unit, subtest=subtest, assessor_person=other, scores=[second])
        Score.objects.filter(pk=second.pk).update(points=1, version=1)
        self.unit, self.subtest, self.score = unit, subtest, first
        self.machine = Score.objects.get(attempt=attempt, source=ScoreSource.MACHINE)
        self.marking = SecondMarking.objects.create(
            school_unit=unit, score=second, assessor=person, points=2, version=1
        )
        self.group = TeachingGroupFactory(school_unit=unit)
        self.upload = EntryImport.objects.create(school_unit=unit, uploaded_by=user)


def _u(name, s, *args):
    return reverse(name, args=[s.unit.public_id, *args])


def _json(client, method, url, body=None):
    return getattr(client, method)(url, body or {}, content_type="application/json")


def _xlsx() -> bytes:
    workbook = Workbook()
    workbook.active.title = "points"
    workbook.active.append(
        ["student_id", "student", "subtest_id", "subtest", "max_points", "points"]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


PROBES = {
    # the desk (pages)
    "desk page": (ASSESS, lambda c, s: c.get(_u("grading-desk", s))),
    "response page": (ASSESS, lambda c, s: c.get(_u("grading-desk-response", s, s.score.public_id))),
    "response save page": (ASSESS, lambda c, s: c.post(
        _u("grading-desk-response", s, s.score.public_id), {"points": "1", "version": "0"})),
    "projector page": (ASSESS, lambda c, s: c.get(_u("grading-desk-projector", s, s.score.public_id))),
    "flag page": (ASSESS, lambda c, s: c.post(_u("grading-desk-flag", s, s.score.public_id), {"flagged": "1"})),
    "print page": (ASSESS, lambda c, s: c.get(_u("grading-desk-print", s))),
    "paper points page": (ASSESS, lambda c, s: c.post(_u("grading-desk-batch", s), {
        f"points-{s.score.public_id}": "1", f"version-{s.score.public_id}": "0"})),
    "override page": (ENTRY, lambda c, s: c.post(_u("grading-desk-override", s, s.machine.public_id),
                                                 {"points": "0", "reason": "x", "version": "0"})),
    # the desk (API)
    "queue api": (ASSESS, lambda c, s: c.get(_u("api-desk-scores", s))),
    "score api read": (ASSESS, lambda c, s: c.get(_u("api-desk-score", s, s.score.public_id))),
    "score api save": (ASSESS, lambda c, s: _json(c, "put", _u("api-desk-score", s, s.score.public_id),
                                                  {"points": 1, "version": 0})),
    "flag api": (ASSESS, lambda c, s: _json(c, "post", _u("api-desk-score-flag", s, s.score.public_id),
                                             {"flagged": True})),
    "override api": (ENTRY, lambda c, s: _json(
        c, "post", _u("api-desk-machine-score-override", s, s.machine.public_id),
        {"points": 0, "reason": "x", "version": 0})),
    # second marking
    "second desk page": (ASSESS, lambda c, s: c.get(_u("grading-second-desk", s))),
    "second response page": (ASSESS, lambda c, s: c.get(_u("grading-second-response", s, s.marking.public_id))),
    "second list api": (ASSESS, lambda c, s: c.get(_u("api-desk-second-markings", s))),
    "second save api": (ASSESS, lambda c, s: _json(
        c, "put", _u("api-desk-second-marking", s, s.marking.public_id), {"points": 1, "version": 1})),
    "lead page": (LEAD, lambda c, s: c.get(_u("grading-second-marking", s))),
    "agreement api": (LEAD, lambda c, s: c.get(_u("api-second-markings-agreement", s))),
    "sample api": (LEAD, lambda c, s: _json(c, "post", _u("api-second-markings", s), {
        "subtest": str(s.subtest.public_id), "percent": 10,
        "assessors": [str(s.marking.score.grading_assignment.assessor.public_id)]})),
    "decide page": (LEAD, lambda c, s: c.post(
        _u("grading-second-marking-decide", s, s.marking.public_id), {"points": "2"})),
    "decide api": (LEAD, lambda c, s: _json(
        c, "post", _u("api-second-marking-decide", s, s.marking.public_id), {"points": 2})),
    # off-platform and paper results
    "entries page": (ENTRY, lambda c, s: c.get(_u("grading-entries", s) + f"?group={s.group.public_id}")),
    "entries form": (ENTRY, lambda c, s: c.get(_u("grading-entries-form", s, s.group.public_id))),
    "entries upload page": (ENTRY, lambda c, s: c.post(
        _u("grading-entries-upload", s, s.group.public_id), {"file": SimpleUploadedFile("p.xlsx", _xlsx())})),
    "entries upload report": (ENTRY, lambda c, s: c.get(_u("grading-entry-import", s, s.upload.public_id))),
    "entries api": (ENTRY, lambda c, s: c.get(_u("api-entries", s))),
    "entries save api": (ENTRY, lambda c, s: _json(c, "put", _u("api-entries", s), {"entries": []})),
    "entries upload api": (ENTRY, lambda c, s: c.post(_u("api-entry-uploads", s), {
        "group": str(s.group.public_id), "file": SimpleUploadedFile("p.xlsx", _xlsx())})),
    "entries apply api": (ENTRY, lambda c, s: _json(
        c, "post", _u("api-entry-upload-apply", s, s.upload.public_id))),
}  # fmt: skip

CASES = [
    pytest.param(role, name, place, id=f"{role.value}-{name}-{place}")
    for role in Role
    for name in PROBES
    for place in ("own_unit", "sibling_unit")
]


@pytest.mark.parametrize(("role", "name", "place"), CASES)
def test_desk_permission_matrix(world, client, role, name, place):
    # given a user in `role` at world.unit, and objects made for them at `place`
    user = world.staff[role]
    unit = world.unit if place == "own_unit" else world.sibling_unit
    setup = Setup(unit, user)
    client.force_login(user)
    needed, probe = PROBES[name]
    # when they use the page or operation
    outcome = outcome_of(probe(client, setup))
    # then
    if place != "own_unit":
        assert outcome is Outcome.NOT_FOUND
    elif needed & capabilities_of(role):
        assert outcome is Outcome.ALLOWED
    else:
        assert outcome is Outcome.NOT_FOUND


@pytest.mark.parametrize("name", list(PROBES))
def test_an_outsider_finds_nothing(world, client, name):
    setup = Setup(world.unit, world.outsider)
    client.force_login(world.outsider)
    assert outcome_of(PROBES[name][1](client, setup)) is Outcome.NOT_FOUND
