"""Reads of what a school prepares before the day, scoped to the acting user's school units.

Objects of another school unit (or missing ones) answer 404 through `access_*`.
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from exams.day_passwords import unit_zone
from exams.models import (
    PROGRAMME_COUNTRY,
    Adjustment,
    AdjustmentKind,
    Assignment,
    DefinitionStatus,
    Exemption,
    Registration,
    Room,
    Sitting,
    SittingProctor,
    SittingStatus,
    SittingStudent,
    Subtest,
    TestDefinition,
)
from provplattform.errors import get_or_not_found
from provplattform.lookup import parse_public_ids
from schools.models import AnyUser, Person, RoleAssignment, SchoolUnit, TeachingGroup
from schools.roles import Capability, Role, capabilities_of_roles
from schools.selectors import persons_of_unit, scope_to_school_units

ADMIN = Capability.ADMINISTER_TESTS


def _get(queryset: QuerySet, **lookup):
    # A malformed id (not a UUID) is as unknown as a missing one: 404, never a server error.
    return get_or_not_found(queryset, **lookup)


_uuids = parse_public_ids


# --- tests visible to a unit ---------------------------------------------------------------------


def tests_for_unit(*, school_unit: SchoolUnit) -> QuerySet:
    """Published tests of the unit's programme (platform-level, not tenant data)."""
    programmes = [p for p, c in PROGRAMME_COUNTRY.items() if c == school_unit.organiser.country]
    return TestDefinition.objects.filter(
        status=DefinitionStatus.PUBLISHED, programme__in=programmes
    ).order_by("window_start", "title")


def subtests_for_unit(*, school_unit: SchoolUnit) -> QuerySet:
    return (
        Subtest.objects.filter(test__in=tests_for_unit(school_unit=school_unit))
        .select_related("test")
        .order_by("test__window_start", "test__title", "position")
    )


def access_subtest(*, school_unit: SchoolUnit, public_id) -> Subtest:
    return _get(subtests_for_unit(school_unit=school_unit), public_id=public_id)


def access_test(*, school_unit: SchoolUnit, public_id) -> TestDefinition:
    return _get(tests_for_unit(school_unit=school_unit), public_id=public_id)


# --- rooms --------------------------------------------------------------------------------------


def rooms_for(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    return scope_to_school_units(
        Room.objects.filter(school_unit=school_unit), user=user, capability=ADMIN
    )


def access_room(*, user: AnyUser, school_unit: SchoolUnit, public_id) -> Room:
    return _get(rooms_for(user=user, school_unit=school_unit), public_id=public_id)


# --- registrations ------------------------------------------------------------------------------


def registrations_for(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    return scope_to_school_units(
        Registration.objects.filter(school_unit=school_unit), user=user, capability=ADMIN
    ).select_related("test")


def voluntary_tests_for(*, school_unit: SchoolUnit) -> QuerySet:
    registered = Registration.objects.filter(school_unit=school_unit, test=OuterRef("pk"))
    return (
        tests_for_unit(school_unit=school_unit)
        .filter(mandatory=False)
        .annotate(is_registered=Exists(registered))
    )


# --- students, assignments ----------------------------------------------------------------------


def students_for(*, user: AnyUser, school_unit: SchoolUnit, capability=ADMIN) -> QuerySet:
    """Students enrolled at the unit, if the user holds `capability` there."""
    units = scope_to_school_units(
        SchoolUnit.objects.filter(pk=school_unit.pk), user=user, capability=capability, path="id"
    )
    return Person.objects.filter(
        enrolments__school_unit__in=units, removed_at__isnull=True
    ).distinct()


def access_student(
    *, user: AnyUser, school_unit: SchoolUnit, public_id, capability=ADMIN
) -> Person:
    return _get(
        students_for(user=user, school_unit=school_unit, capability=capability),
        public_id=public_id,
    )


def persons_at(
    *, user: AnyUser, school_unit: SchoolUnit, public_ids, capability=ADMIN
) -> list[Person]:
    """Students of the unit among `public_ids`; ids of anyone else are simply not found."""
    return list(
        students_for(user=user, school_unit=school_unit, capability=capability).filter(
            public_id__in=_uuids(public_ids)
        )
    )


def groups_for(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    return scope_to_school_units(
        TeachingGroup.objects.filter(school_unit=school_unit), user=user, capability=ADMIN
    )


def access_group(*, user: AnyUser, school_unit: SchoolUnit, public_id) -> TeachingGroup:
    return _get(groups_for(user=user, school_unit=school_unit), public_id=public_id)


def _placement_room(subtest_field: str = "subtest") -> QuerySet:
    return SittingStudent.objects.filter(
        person=OuterRef("person"),
        sitting__subtest=OuterRef(subtest_field),
        sitting__status=SittingStatus.SCHEDULED,
    )


def assignments_for(
    *,
    user: AnyUser,
    school_unit: SchoolUnit,
    subtest: Subtest | None = None,
    room: Room | None = None,
    unplaced: bool = False,
) -> QuerySet:
    """Assignments of the unit; `room` keeps students placed in a sitting in that room."""
    qs = scope_to_school_units(
        Assignment.objects.filter(school_unit=school_unit), user=user, capability=ADMIN
    ).select_related("person", "subtest__test")
    if subtest is not None:
        qs = qs.filter(subtest=subtest)
    placed = _placement_room()
    if room is not None:
        qs = qs.filter(Exists(placed.filter(sitting__room=room)))
    qs = qs.annotate(
        is_placed=Exists(placed),
        is_exempt=Exists(
            Exemption.objects.filter(
                person=OuterRef("person"), test=OuterRef("subtest__test")
            ).filter(Q(subtest__isnull=True) | Q(subtest=OuterRef("subtest")))
        ),
    )
    if unplaced:
        qs = qs.filter(is_placed=False)
    return qs.order_by(
        "subtest__test__title", "subtest__position", "person__family_name", "person__given_name"
    )


def access_assignment(*, user: AnyUser, school_unit: SchoolUnit, public_id) -> Assignment:
    return _get(assignments_for(user=user, school_unit=school_unit), public_id=public_id)


def room_of(*, assignment: Assignment) -> Room | None:
    placement = (
        SittingStudent.objects.filter(
            person=assignment.person,
            sitting__subtest=assignment.subtest,
            sitting__status=SittingStatus.SCHEDULED,
        )
        .select_related("sitting__room")
        .first()
    )
    return placement.sitting.room if placement else None


# --- sittings -----------------------------------------------------------------------------------


def sittings_for(
    *,
    user: AnyUser,
    school_unit: SchoolUnit,
    room: Room | None = None,
    capability=ADMIN,
    upcoming_only: bool = False,
    now: datetime.datetime | None = None,
) -> QuerySet:
    qs = scope_to_school_units(
        Sitting.objects.filter(school_unit=school_unit), user=user, capability=capability
    ).select_related("subtest__test", "room")
    if room is not None:
        qs = qs.filter(room=room)
    if upcoming_only:
        # Midnight in the unit's own time zone, not the server's.
        local = (now or timezone.now()).astimezone(unit_zone(school_unit))
        start_of_today = local.replace(hour=0, minute=0, second=0, microsecond=0)
        qs = qs.filter(status=SittingStatus.SCHEDULED, starts_at__gte=start_of_today)
    return qs.prefetch_related(
        Prefetch("proctorships", queryset=SittingProctor.objects.select_related("person")),
    )


def access_sitting(
    *, user: AnyUser, school_unit: SchoolUnit, public_id, capability=ADMIN
) -> Sitting:
    return _get(
        sittings_for(user=user, school_unit=school_unit, capability=capability),
        public_id=public_id,
    )


def proctor_sittings_for(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    """The sittings a proctor sees: every sitting of the unit where they hold PROCTOR."""
    return sittings_for(user=user, school_unit=school_unit, capability=Capability.PROCTOR)


def sitting_students(*, sitting: Sitting) -> QuerySet:
    return Person.objects.filter(placements__sitting=sitting).order_by("family_name", "given_name")


def _persons_with_role(school_unit: SchoolUnit, *capabilities: Capability) -> set[int]:
    """Transferred staff of the unit holding a role with any of `capabilities`."""
    roles = [r for r in Role if capabilities_of_roles([r]) & set(capabilities)]
    return set(
        RoleAssignment.objects.filter(
            school_unit=school_unit,
            role__in=roles,
            person__removed_at__isnull=True,
            person__duties__school_unit=school_unit,
        ).values_list("person_id", flat=True)
    )


def _candidates(user: AnyUser, school_unit: SchoolUnit, *capabilities: Capability) -> QuerySet:
    """Staff an administrator of the unit may pick for a task needing any of `capabilities`."""
    units = scope_to_school_units(
        SchoolUnit.objects.filter(pk=school_unit.pk), user=user, capability=ADMIN, path="id"
    )
    if not units.exists():
        return Person.objects.none()
    return Person.objects.filter(pk__in=_persons_with_role(school_unit, *capabilities)).order_by(
        "family_name", "given_name"
    )


def proctor_candidates(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    """Transferred staff holding the proctor capability at the unit (via any role)."""
    return _candidates(user, school_unit, Capability.PROCTOR)


def result_enterer_candidates(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    """Transferred staff who may enter results of an off-platform subtest at the unit."""
    return _candidates(user, school_unit, Capability.ASSESS, Capability.PREPARE_GRADING)


# --- adjustments and exemptions -----------------------------------------------------------------


def _placed_in_room(qs: QuerySet, room: Room | None) -> QuerySet:
    """Rows of students placed in a scheduled sitting in `room`; all rows when there is none."""
    if room is None:
        return qs
    return qs.filter(
        Exists(
            SittingStudent.objects.filter(
                person=OuterRef("person"),
                sitting__room=room,
                sitting__status=SittingStatus.SCHEDULED,
            )
        )
    )


def adjustments_for(
    *, user: AnyUser, school_unit: SchoolUnit, room: Room | None = None
) -> QuerySet:
    qs = scope_to_school_units(
        Adjustment.objects.filter(school_unit=school_unit),
        user=user,
        capability=Capability.ENTER_ADJUSTMENTS,
    ).select_related("person", "test", "subtest", "decided_by")
    return _placed_in_room(qs, room).order_by("person__family_name", "person__given_name")


def access_adjustment(*, user: AnyUser, school_unit: SchoolUnit, public_id) -> Adjustment:
    return _get(adjustments_for(user=user, school_unit=school_unit), public_id=public_id)


def exemptions_for(*, user: AnyUser, school_unit: SchoolUnit, room: Room | None = None) -> QuerySet:
    """Exemptions of the unit; `room` keeps students placed in a scheduled sitting in that room.

    An exemption withdraws the student from the exempted subtests' sittings, so the room is the
    one of their other sittings (e.g. the test's other subtests).
    """
    qs = scope_to_school_units(
        Exemption.objects.filter(school_unit=school_unit),
        user=user,
        capability=Capability.DECIDE_EXEMPTIONS,
    ).select_related("person", "test", "subtest", "decided_by")
    return _placed_in_room(qs, room).order_by("person__family_name", "person__given_name")


def access_exemption(*, user: AnyUser, school_unit: SchoolUnit, public_id) -> Exemption:
    return _get(exemptions_for(user=user, school_unit=school_unit), public_id=public_id)


def head_teachers_at(*, school_unit: SchoolUnit) -> QuerySet:
    return Person.objects.filter(
        role_assignments__school_unit=school_unit,
        role_assignments__role="head_teacher",
        removed_at__isnull=True,
    ).distinct()


def exemptions_covering(*, subtest: Subtest) -> QuerySet:
    """Exemptions from the subtest or from its whole test, at every unit (callers scope them)."""
    return Exemption.objects.filter(test_id=subtest.test_id).filter(
        Q(subtest=subtest) | Q(subtest__isnull=True)
    )


def exempt_person_ids(*, subtest: Subtest) -> set[int]:
    """Persons exempt from the subtest (or its whole test): results leave them out of statistics.

    Not user-scoped: results code calls it after scoping its own rows.
    """
    return set(exemptions_covering(subtest=subtest).values_list("person_id", flat=True))


def access_sitting_student(*, sitting: Sitting, public_id) -> Person:
    """A student placed in `sitting` (already scoped to the unit); anyone else is a 404."""
    return _get(sitting_students(sitting=sitting), public_id=public_id)


def access_staff_member(*, school_unit: SchoolUnit, public_id) -> Person:
    """A person of the unit, for a part in one of its sittings (proctor, result enterer).

    Anyone else — a person of a sibling unit of the same organiser too — is not found, worded
    exactly like a missing id, so a refusal never names a person of another unit. Whether the
    person may take the part is the service's rule.
    """
    return _get(persons_of_unit(school_unit=school_unit), public_id=public_id)


def access_sitting_proctor(*, sitting: Sitting, public_id) -> Person:
    """A proctor or backup proctor of `sitting`; anyone else is a 404."""
    return _get(Person.objects.filter(proctorships__sitting=sitting), public_id=public_id)


def adjustments_by_person(*, subtest: Subtest, school_unit_id: int, person_ids) -> dict:
    """{person id: {"extended_minutes", "tools", "other_kinds"}} for the students' adjustments on
    the subtest (one for the subtest wins over one for the whole test), only what the subtest
    permits. One query, for the proctor's room.
    """
    permitted = set(subtest.permitted_adjustments or [])
    rows = (
        Adjustment.objects.filter(
            school_unit_id=school_unit_id, test_id=subtest.test_id, person_id__in=person_ids
        )
        .filter(Q(subtest=subtest) | Q(subtest__isnull=True))
        .order_by("person_id", F("subtest_id").asc(nulls_last=True))
    )
    found: dict[int, dict] = {}
    for adjustment in rows:
        entry = found.setdefault(
            adjustment.person_id, {"extended_minutes": 0, "tools": set(), "other_kinds": set()}
        )
        if AdjustmentKind.EXTENDED_TIME in permitted and not entry["extended_minutes"]:
            entry["extended_minutes"] = adjustment.extra_minutes_for(subtest.duration_minutes)
        if AdjustmentKind.TOOLS in permitted:
            entry["tools"] |= set(adjustment.tools or []) & set(subtest.permitted_tools or [])
        entry["other_kinds"] |= set(adjustment.other_kinds or []) & permitted
    return {
        person_id: {
            **entry,
            "tools": sorted(entry["tools"]),
            "other_kinds": sorted(entry["other_kinds"]),
        }
        for person_id, entry in found.items()
    }
