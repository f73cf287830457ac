"""Real probes of the results capabilities for the permission matrix."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.test import Client

from results.models import ResultSet, TestResult
from schools.models import SchoolUnit, TeachingGroup
from schools.roles import Capability
from schools.selectors import teaching_groups_with_results
from tests.factories import TestDefinitionFactory
from tests.permission_probes import probe_user


def _result_set(unit: SchoolUnit) -> ResultSet:
    found = ResultSet.objects.filter(school_unit=unit).first()
    return found or ResultSet.objects.create(school_unit=unit, test=TestDefinitionFactory())


def probe_view_all_results(client: Client, unit: SchoolUnit) -> HttpResponse:
    return client.get(f"/units/{unit.public_id}/results/{_result_set(unit).public_id}/")


def probe_export_results(client: Client, unit: SchoolUnit) -> HttpResponse:
    return client.get(f"/units/{unit.public_id}/results/{_result_set(unit).public_id}/export.csv")


def probe_view_group_results(client: Client, unit: SchoolUnit) -> HttpResponse:
    """A group page: one of the user's own groups at the unit where they have one."""
    own = teaching_groups_with_results(probe_user(client)).filter(school_unit=unit).first()
    group = own or TeachingGroup.objects.filter(school_unit=unit).first()
    group_id = group.public_id if group else uuid.uuid4()
    rs = _result_set(unit)
    member = group.members.first() if group else None
    if member is not None:
        # A teacher lists only the tests their students have results of.
        TestResult.objects.get_or_create(
            result_set=rs, person=member, defaults={"max_points": 0, "presence": "sat"}
        )
    return client.get(f"/units/{unit.public_id}/results/{rs.public_id}/groups/{group_id}/")


PROBES = {
    Capability.VIEW_ALL_RESULTS: probe_view_all_results,
    Capability.EXPORT_RESULTS: probe_export_results,
    Capability.VIEW_GROUP_RESULTS: probe_view_group_results,
}
