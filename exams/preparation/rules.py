"""The rules of the preparation as reads: who is enrolled, exempt, started; who may proctor or
enter results; what opens when; which adjustments and tools apply to a student.

Pure reads, no writes: selectors, readiness, delivery and the writing modules of this package
ask here, so the answer is the same wherever the question is asked.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exams.day_passwords import unit_today
from exams.models import (
    PROGRAMME_COUNTRY,
    Adjustment,
    AdjustmentKind,
    DefinitionStatus,
    Exemption,
    PaperReplacement,
    Registration,
    Subtest,
    SubtestStart,
    TestDefinition,
)
from schools.models import Duty, Enrolment, Person, RoleAssignment, SchoolUnit
from schools.roles import Capability, Role, capabilities_of_roles

# The technical routine before a digital sitting (Skolverket's guidance to schools): each item is
# ticked per sitting by a named person. Keys are stored as "technical:<item>".
TECHNICAL_ITEMS: dict[str, object] = {
    "devices": gettext_lazy("A device for every student that meets the technical requirements"),
    "keyboards_headphones": gettext_lazy("A physical keyboard and headphones for every student"),
    "charged": gettext_lazy("Devices charged, with power outlets in the room"),
    "updates_paused": gettext_lazy("No device updates planned during the test"),
    "spare_devices": gettext_lazy("Spare devices, chargers and accessories at hand"),
    "screens": gettext_lazy("The room is furnished so students cannot see each other's screens"),
    "network": gettext_lazy("The network has the capacity for every student at once"),
    "support": gettext_lazy(
        "Who supports whom is settled: at the school and at the organiser, and how to reach them"
    ),
}
TECHNICAL_KEYS = tuple(f"technical:{item}" for item in TECHNICAL_ITEMS)
CHECKLIST_KEYS = ("adjustments_reviewed", *TECHNICAL_KEYS)


def assignment_opens_on(subtest: Subtest) -> datetime.date:
    """The first day the subtest may be assigned.

    Reference date: the first day of the subtest's window, because students must be assigned
    before they can be placed in a sitting, so the sitting date cannot be the reference.
    """
    start, _end = subtest.effective_window
    return start - datetime.timedelta(days=subtest.test.assignment_opens_days_before)


def assignment_window_refusal(subtest: Subtest, today: datetime.date) -> str | None:
    opens = assignment_opens_on(subtest)
    _start, end = subtest.effective_window
    if today < opens:
        return _("Assignment opens on %(date)s.") % {"date": opens.isoformat()}
    if today > end:
        return _("The test window closed on %(date)s.") % {"date": end.isoformat()}
    return None


def enrolled_ids(school_unit: SchoolUnit, *, today: datetime.date) -> set[int]:
    return set(
        Enrolment.objects.filter(school_unit=school_unit, person__removed_at__isnull=True)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .values_list("person_id", flat=True)
    )


def exempt_ids(subtest: Subtest) -> set[int]:
    return set(
        Exemption.objects.filter(test_id=subtest.test_id)
        .filter(Q(subtest=subtest) | Q(subtest__isnull=True))
        .values_list("person_id", flat=True)
    )


def started_ids(**subtest_lookup) -> set[int]:
    """Students who have started a subtest matching the lookup, or did it on paper instead."""
    started = SubtestStart.objects.filter(**subtest_lookup).values_list("person_id", flat=True)
    on_paper = PaperReplacement.objects.filter(**subtest_lookup).values_list("person_id", flat=True)
    return set(started) | set(on_paper)


def sat_earlier_version_ids(subtest: Subtest) -> set[int]:
    """Students who sat the same subtest in an earlier version of the test: they are done."""
    return started_ids(
        subtest__code=subtest.code,
        subtest__test__code=subtest.test.code,
        subtest__test__version__lt=subtest.test.version,
    )


@dataclass(frozen=True)
class StaffStanding:
    """What decides whether a member of staff may serve a unit: transferred there, and roles."""

    transferred: bool
    capabilities: frozenset[Capability]


def staff_standings(school_unit: SchoolUnit, persons: Iterable[Person]) -> dict[int, StaffStanding]:
    """The standing of each of `persons` at the unit, in two queries whatever their number."""
    persons = list(persons)
    ids = [p.pk for p in persons]
    duties = set(
        Duty.objects.filter(school_unit=school_unit, person_id__in=ids).values_list(
            "person_id", flat=True
        )
    )
    roles: dict[int, list[str]] = {}
    for person_id, role in RoleAssignment.objects.filter(
        school_unit=school_unit, person_id__in=ids
    ).values_list("person_id", "role"):
        roles.setdefault(person_id, []).append(role)
    return {
        p.pk: StaffStanding(
            transferred=p.removed_at is None and p.pk in duties,
            capabilities=capabilities_of_roles(roles.get(p.pk, [])),
        )
        for p in persons
    }


def _standing(
    person: Person, school_unit: SchoolUnit, known: StaffStanding | None
) -> StaffStanding:
    return known or staff_standings(school_unit, [person])[person.pk]


def _not_transferred_refusal(person: Person, standing: StaffStanding) -> str | None:
    """Staff serve a unit only while the organiser's transfer lists them as staff there."""
    if standing.transferred:
        return None
    return _("%(name)s was not transferred by the organiser to this school unit.") % {
        "name": person.full_name
    }


def proctor_refusal(
    person: Person, school_unit: SchoolUnit, standing: StaffStanding | None = None
) -> str | None:
    """Why `person` cannot proctor at `school_unit`, or None if they can. `standing` from
    `staff_standings` saves the queries when many are checked at once."""
    standing = _standing(person, school_unit, standing)
    if refusal := _not_transferred_refusal(person, standing):
        return refusal
    if Capability.PROCTOR not in standing.capabilities:
        return _("%(name)s does not hold the proctor role at this school unit.") % {
            "name": person.full_name
        }
    return None


def result_enterer_refusal(
    person: Person, school_unit: SchoolUnit, standing: StaffStanding | None = None
) -> str | None:
    """Why `person` cannot enter the results of an off-platform subtest at the unit, or None."""
    standing = _standing(person, school_unit, standing)
    if refusal := _not_transferred_refusal(person, standing):
        return refusal
    if not standing.capabilities & {Capability.ASSESS, Capability.PREPARE_GRADING}:
        return _("%(name)s may not enter results at this school unit.") % {"name": person.full_name}
    return None


def is_head_teacher(person: Person | None, school_unit: SchoolUnit) -> bool:
    return (
        person is not None
        and RoleAssignment.objects.filter(
            person=person, school_unit=school_unit, role=Role.HEAD_TEACHER
        ).exists()
    )


def binding_tests(school_unit: SchoolUnit, today: datetime.date) -> list[TestDefinition]:
    country_programmes = [
        p for p, c in PROGRAMME_COUNTRY.items() if c == school_unit.organiser.country
    ]
    registered = Registration.objects.filter(school_unit=school_unit).values("test_id")
    tests = (
        TestDefinition.objects.filter(
            status=DefinitionStatus.PUBLISHED,
            programme__in=country_programmes,
            window_end__gte=today,
        )
        .filter(Q(mandatory=True) | Q(id__in=registered))
        .prefetch_related("subtests")
        .order_by("code", "-version")
    )
    # Publishing a correction retires the version before it; should two versions of one code
    # still be published, students are assigned only the newest.
    newest: dict[str, TestDefinition] = {}
    for test in tests:
        newest.setdefault(test.code, test)
    return list(newest.values())


def binding_test_ids(*, school_unit: SchoolUnit, today: datetime.date | None = None) -> set[int]:
    """Tests the unit's students are assigned automatically (mandatory, or registered)."""
    day = today or unit_today(school_unit)
    return {test.pk for test in binding_tests(school_unit, day)}


def adjustments_for(*, person: Person, subtest: Subtest) -> QuerySet[Adjustment]:
    return Adjustment.objects.filter(person=person, test_id=subtest.test_id).filter(
        Q(subtest=subtest) | Q(subtest__isnull=True)
    )


def extra_seconds_for(*, person: Person, subtest: Subtest) -> int:
    """Extended time for the student on this subtest; a subtest-specific adjustment wins over one
    for the whole test. Called by delivery to compute the deadline."""
    if AdjustmentKind.EXTENDED_TIME not in (subtest.permitted_adjustments or []):
        return 0
    rows = sorted(
        adjustments_for(person=person, subtest=subtest), key=lambda a: a.subtest_id is None
    )
    for adjustment in rows:
        if adjustment.extended_minutes or adjustment.extended_percent:
            return adjustment.extra_minutes_for(subtest.duration_minutes) * 60
    return 0


def tools_for(*, person: Person, subtest: Subtest) -> list[str]:
    """Tools available to the student: the subtest's own plus those an adjustment adds (only
    when the subtest permits tools as an adjustment, and only tools it permits)."""
    tools = set(subtest.tools or [])
    if AdjustmentKind.TOOLS not in (subtest.permitted_adjustments or []):
        return sorted(tools)
    for adjustment in adjustments_for(person=person, subtest=subtest):
        tools |= set(adjustment.tools or []) & set(subtest.permitted_tools or [])
    return sorted(tools)


def has_started(person: Person, *, subtests: Iterable[Subtest]) -> bool:
    return SubtestStart.objects.filter(person=person, subtest__in=list(subtests)).exists()
