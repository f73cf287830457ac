"""Capability probes for the permission matrix (see tests/permission_probes.py).

Each probe opens the real page as the logged-in user: the proctor room of a sitting at the unit
for Capability.PROCTOR, and the IT page of the unit for Capability.VIEW_CONNECTIVITY.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exams.models import Sitting
from schools.models import SchoolUnit
from schools.roles import Capability
from tests.factories import RoomFactory, SubtestFactory


def proctor_room_probe(client: Client, unit: SchoolUnit) -> HttpResponse:
    sitting = Sitting.objects.create(
        school_unit=unit,
        subtest=SubtestFactory(),
        room=RoomFactory(school_unit=unit),
        starts_at=timezone.now(),
    )
    return client.get(reverse("proctor-room", args=[sitting.public_id]))


def it_page_probe(client: Client, unit: SchoolUnit) -> HttpResponse:
    return client.get(reverse("it-page", args=[unit.public_id]))


PROBES = {
    Capability.PROCTOR: proctor_room_probe,
    Capability.VIEW_CONNECTIVITY: it_page_probe,
}
