"""Real probes for the permission matrix (tests/permission_probes.py imports `PROBES`)."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.test import Client

from schools.models import SchoolUnit
from schools.roles import Capability


def probe_administer_tests(client: Client, unit: SchoolUnit) -> HttpResponse:
    """Add a room through the API (a write only test administration may do); "who still has to
    sit" (page and API) answers the same way."""
    from tests.permission_probes import outcome_of

    added = client.post(
        f"/api/v1/units/{unit.public_id}/rooms/",
        {"name": f"Probe {uuid.uuid4().hex[:8]}"},
        content_type="application/json",
    )
    for path in (
        f"/units/{unit.public_id}/prepare/still-to-sit/",
        f"/api/v1/units/{unit.public_id}/still-to-sit/",
    ):
        assert outcome_of(client.get(path)) == outcome_of(added), path
    return added


def probe_enter_adjustments(client: Client, unit: SchoolUnit) -> HttpResponse:
    return client.get(f"/units/{unit.public_id}/prepare/adjustments/")


def probe_decide_exemptions(client: Client, unit: SchoolUnit) -> HttpResponse:
    return client.get(f"/api/v1/units/{unit.public_id}/exemptions/")


def probe_view_day_password(client: Client, unit: SchoolUnit) -> HttpResponse:
    return client.get(f"/api/v1/units/{unit.public_id}/day-password/")


PROBES = {
    Capability.ADMINISTER_TESTS: probe_administer_tests,
    Capability.ENTER_ADJUSTMENTS: probe_enter_adjustments,
    Capability.DECIDE_EXEMPTIONS: probe_decide_exemptions,
    Capability.VIEW_DAY_PASSWORD: probe_view_day_password,
}
