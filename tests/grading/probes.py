"""Capability probes for the permission matrix (see tests/permission_probes.py).

PREPARE_GRADING opens the grading page of a subtest sat at the unit; ASSESS reads, through the
API, a response of the unit assigned to the logged-in user (the assignment is made directly, as
the lead would, so the probe asks only whether the user may assess there).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.test import Client

from grading.models import GradingAssignment, GradingPlan, Score
from schools.models import Person, SchoolUnit
from schools.roles import Capability
from tests.factories import student
from tests.grading.helpers import grading_sitting, submitted_attempt
from tests.permission_probes import probe_user


def _sat(unit: SchoolUnit):
    sitting = grading_sitting(unit, essays=1)
    submitted_attempt(sitting, student(unit))
    return sitting


def prepare_grading_probe(client: Client, unit: SchoolUnit) -> HttpResponse:
    sitting = _sat(unit)
    return client.get(f"/units/{unit.public_id}/grading/{sitting.subtest.public_id}/")


def assess_probe(client: Client, unit: SchoolUnit) -> HttpResponse:
    sitting = _sat(unit)
    user = probe_user(client)
    person = (
        getattr(user, "person", None)
        or Person.objects.filter(organiser_id=unit.organiser_id).first()
    )
    plan = GradingPlan.objects.create(school_unit=unit, subtest=sitting.subtest)
    score = Score.objects.get(attempt__sitting=sitting, item__identifier="essay0")
    GradingAssignment.objects.create(plan=plan, score=score, assessor=person)
    return client.get(f"/api/v1/units/{unit.public_id}/desk/scores/{score.public_id}/")


PROBES = {
    Capability.PREPARE_GRADING: prepare_grading_probe,
    Capability.ASSESS: assess_probe,
}
