"""Capability probes for the permission matrix (see tests/permission_probes.py).

Each probe opens the real page as the logged-in user: the proctor room of a sitting at the unit
for Capability.PROCTOR, and the IT page of the unit for Capability.VIEW_CONNECTIVITY.
"""

from __future__ import annotations

import datetime

from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from delivery.models import Attempt, AttemptStatus
from exams.models import Sitting
from schools.models import SchoolUnit
from schools.roles import Capability
from tests.factories import RoomFactory, SubtestFactory, student


def _sitting(unit: SchoolUnit) -> Sitting:
    return Sitting.objects.create(
        school_unit=unit,
        subtest=SubtestFactory(),
        room=RoomFactory(school_unit=unit),
        starts_at=timezone.now(),
    )


def proctor_room_probe(client: Client, unit: SchoolUnit) -> HttpResponse:
    """The proctor room, and the API's submit for a student and end of a sitting: all three
    answer alike for every user (allowed, or not found)."""
    room = client.get(reverse("proctor-room", args=[_sitting(unit).public_id]))
    sitting = _sitting(unit)
    attempt = Attempt.objects.create(
        sitting=sitting,
        person=student(unit),
        status=AttemptStatus.WORKING,
        started_at=timezone.now(),
        deadline=timezone.now() + datetime.timedelta(minutes=45),
    )
    submit = client.post(
        reverse(
            "api-delivery-attempt-submit",
            args=[unit.public_id, sitting.public_id, attempt.public_id],
        ),
        {"reason": "Probe"},
        content_type="application/json",
    )
    end = client.post(
        reverse("api-delivery-sitting-end", args=[unit.public_id, _sitting(unit).public_id]),
        {},
        content_type="application/json",
    )
    codes = {room.status_code, submit.status_code, end.status_code}
    assert len(codes) == 1, ("the room and the API disagree", codes)
    return room


def it_page_probe(client: Client, unit: SchoolUnit) -> HttpResponse:
    return client.get(reverse("it-page", args=[unit.public_id]))


PROBES = {
    Capability.PROCTOR: proctor_room_probe,
    Capability.VIEW_CONNECTIVITY: it_page_probe,
}
