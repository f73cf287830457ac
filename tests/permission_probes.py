"""The registry of capability probes used by the permission matrix (tests/schools/).

A probe exercises one Capability at one school unit through the real page or API, as the user the
test client is logged in as, and returns the HttpResponse (or an Outcome directly, for probes
that work at selector level). The matrix turns responses into outcomes:

    2xx/3xx -> ALLOWED · 404 -> NOT_FOUND · anything else (403, 400...) -> REFUSED

Every capability needs a probe of its own: a new capability without one fails
`test_every_capability_has_a_probe`. Define `PROBES = {Capability.X: probe}` in the probes module of
the app whose page or API serves it (`tests/<app>/probes.py`, listed in `OPTIONAL_PROBE_MODULES`);
entries there override the ones here. A capability whose pages do not exist yet is probed at
selector level (`selector_probe`) and named in `AWAITING_PAGES`, so it shows up as a debt. A probe
must leave the database state irrelevant to other probes (each matrix case runs in its own
transaction anyway).
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
from collections.abc import Callable

from django.http import HttpResponse
from django.test import Client

from schools import selectors
from schools.models import Person, SchoolUnit, User
from schools.roles import Capability, Role


class Outcome(enum.Enum):
    ALLOWED = "allowed"
    REFUSED = "refused"
    NOT_FOUND = "not found"


Probe = Callable[[Client, SchoolUnit], HttpResponse | Outcome]

OPTIONAL_PROBE_MODULES = [
    "tests.exams.probes",
    "tests.delivery.probes",
    "tests.grading.probes",
    "tests.results.probes",
]


def outcome_of(result: HttpResponse | Outcome) -> Outcome:
    if isinstance(result, Outcome):
        return result
    if result.status_code == 404:
        return Outcome.NOT_FOUND
    if 200 <= result.status_code < 400:
        return Outcome.ALLOWED
    return Outcome.REFUSED


def probe_user(client: Client) -> User | None:
    """The user the client is logged in as (None when anonymous)."""
    user_id = client.session.get("_auth_user_id")
    return User.objects.filter(pk=user_id).first() if user_id else None


def selector_outcome(user, unit: SchoolUnit, allowed: bool) -> Outcome:
    """A selector-level result: units the user cannot open at all count as not found."""
    if allowed:
        return Outcome.ALLOWED
    if not selectors.school_units_visible_to(user).filter(pk=unit.pk).exists():
        return Outcome.NOT_FOUND
    return Outcome.REFUSED


def _unit_staff_target(unit: SchoolUnit, actor=None) -> Person | None:
    """A transferred member of staff without an admin role, to give roles to; never the actor,
    since nobody changes their own roles."""
    return (
        Person.objects.filter(duties__school_unit=unit)
        .exclude(pk=getattr(actor, "person_id", None))
        .exclude(
            role_assignments__school_unit=unit,
            role_assignments__role__in=[Role.HEAD_TEACHER, Role.SCHOOL_ADMINISTRATOR],
        )
        .order_by("id")
        .first()
        or Person.objects.filter(organiser_id=unit.organiser_id).order_by("id").first()
    )


def _assign_probe(role: Role) -> Probe:
    def probe(client: Client, unit: SchoolUnit) -> HttpResponse:
        person = _unit_staff_target(unit, probe_user(client))
        return client.post(
            f"/api/v1/units/{unit.public_id}/role-assignments/",
            {"person": str(person.public_id), "role": role.value},
            content_type="application/json",
        )

    return probe


def probe_view_students(client: Client, unit: SchoolUnit) -> HttpResponse:
    return client.get(f"/units/{unit.public_id}/students/")


def probe_view_staff(client: Client, unit: SchoolUnit) -> HttpResponse:
    return client.get(f"/units/{unit.public_id}/staff/")


def probe_view_group_results(client: Client, unit: SchoolUnit) -> Outcome:
    # Selector level until the results pages exist.
    user = probe_user(client)
    groups = selectors.teaching_groups_with_results(user).filter(school_unit=unit)
    return selector_outcome(user, unit, groups.exists())


probe_view_group_results.is_selector_level = True  # type: ignore[attr-defined]


def selector_probe(capability: Capability) -> Probe:
    """For a capability whose pages do not exist yet: checks the guardian permission data the
    role services keep in step with the role table, both as a single check and through the
    list-scoping helper."""

    def probe(client: Client, unit: SchoolUnit) -> Outcome:
        user = probe_user(client)
        single = selectors.user_has_capability(user=user, school_unit=unit, capability=capability)
        scoped = selectors.scope_to_school_units(
            SchoolUnit.objects.filter(pk=unit.pk), user=user, capability=capability, path="id"
        ).exists()
        assert single == scoped, f"{capability}: single check and scoping helper disagree"
        return selector_outcome(user, unit, single)

    probe.is_selector_level = True  # type: ignore[attr-defined]
    return probe


# Capabilities probed at selector level until their pages exist; the app that adds the page
# replaces the probe and removes the capability from here. None left: the grading and results
# apps probe their pages (tests/grading/probes.py, tests/results/probes.py).
AWAITING_PAGES: frozenset[Capability] = frozenset()


def _build_registry() -> dict[Capability, Probe]:
    probes: dict[Capability, Probe] = {
        Capability.VIEW_STUDENTS: probe_view_students,
        Capability.VIEW_STAFF: probe_view_staff,
        Capability.ASSIGN_ROLES: _assign_probe(Role.ASSESSOR),
        Capability.ASSIGN_TEST_ADMIN_ROLE: _assign_probe(Role.TEST_ADMINISTRATOR),
        Capability.VIEW_GROUP_RESULTS: probe_view_group_results,
        Capability.PREPARE_GRADING: selector_probe(Capability.PREPARE_GRADING),
        Capability.ASSESS: selector_probe(Capability.ASSESS),
        Capability.VIEW_ALL_RESULTS: selector_probe(Capability.VIEW_ALL_RESULTS),
        Capability.EXPORT_RESULTS: selector_probe(Capability.EXPORT_RESULTS),
    }
    for name in OPTIONAL_PROBE_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)  # errors inside the module must surface
        probes.update(getattr(module, "PROBES", {}))
    return probes


PROBES: dict[Capability, Probe] = _build_registry()


def is_selector_level(capability: Capability) -> bool:
    return getattr(PROBES[capability], "is_selector_level", False)
