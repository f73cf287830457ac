"""Reads of tenant data. Everything is scoped to the school units the acting user may act on.

`scope_to_school_units` is the one helper that every app uses to filter a queryset: a single
subquery on the guardian permission table, never a check per object.
"""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from provplattform.audit import AuditAction
from provplattform.lookup import get_by_public_id
from provplattform.models import AuditEvent
from schools.models import (
    AnyUser,
    Duty,
    Enrolment,
    OrganiserAdministrator,
    Person,
    RoleAssignment,
    SchoolUnit,
    SchoolUnitUserObjectPermission,
    TeachingGroup,
    TeachingGroupUserObjectPermission,
)
from schools.roles import ROLE_TABLE, Capability, Role


def _unit_ids_with(user: AnyUser | None, capability: Capability | str) -> Subquery | list:
    if user is None or not user.is_authenticated:
        return []
    return Subquery(
        SchoolUnitUserObjectPermission.objects.filter(
            user_id=user.pk, permission__codename=str(capability)
        ).values("content_object_id")
    )


def scope_to_school_units(
    queryset: QuerySet, *, user: AnyUser, capability: Capability | str, path: str = "school_unit"
) -> QuerySet:
    """Filter `queryset` to rows whose school unit (reached through `path`) grants `capability`."""
    return queryset.filter(**{f"{path}__in": _unit_ids_with(user, capability)})


def school_units_for(
    user: AnyUser, capability: Capability | str = Capability.VIEW_STUDENTS
) -> QuerySet:
    return scope_to_school_units(
        SchoolUnit.objects.all(), user=user, capability=capability, path="id"
    )


def school_units_with_any_role(user: AnyUser) -> QuerySet:
    """Units where the user holds a role (Övrig skolpersonal included), for the unit picker."""
    if not user.is_authenticated or user.person_id is None:
        return SchoolUnit.objects.none()
    return SchoolUnit.objects.filter(
        id__in=Subquery(
            RoleAssignment.objects.filter(person_id=user.person_id).values("school_unit_id")
        ),
        removed_at__isnull=True,
    )


def access_school_unit(*, user: AnyUser, public_id, capability: Capability | str) -> SchoolUnit:
    """The unit, if the user may use `capability` there; otherwise 404, as for a missing one."""
    units = school_units_for(user, capability)
    return get_by_public_id(units, public_id, "No such school unit.")


def capabilities_at(*, user: AnyUser | None, school_unit: SchoolUnit) -> frozenset[str]:
    if user is None or not user.is_authenticated:
        return frozenset()
    return frozenset(
        SchoolUnitUserObjectPermission.objects.filter(
            user_id=user.pk, content_object=school_unit
        ).values_list("permission__codename", flat=True)
    )


def user_has_capability(
    *, user: AnyUser | None, school_unit: SchoolUnit, capability: Capability | str
) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return SchoolUnitUserObjectPermission.objects.filter(
        user_id=user.pk, content_object=school_unit, permission__codename=str(capability)
    ).exists()


def roles_at(*, person: Person, school_unit: SchoolUnit) -> list[str]:
    return list(
        RoleAssignment.objects.filter(person=person, school_unit=school_unit)
        .order_by("role")
        .values_list("role", flat=True)
    )


def students_of(*, user: AnyUser, school_unit: SchoolUnit, search: str = "") -> QuerySet:
    """Students enrolled at `school_unit`, if the user may see students there."""
    units = school_units_for(user, Capability.VIEW_STUDENTS).filter(pk=school_unit.pk)
    qs = Person.objects.filter(
        enrolments__school_unit__in=units, removed_at__isnull=True
    ).distinct()
    if search:
        qs = qs.filter(
            Q(given_name__icontains=search)
            | Q(family_name__icontains=search)
            | Q(external_id__iexact=search)
        )
    return qs


def staff_of(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    units = school_units_for(user, Capability.VIEW_STAFF).filter(pk=school_unit.pk)
    return Person.objects.filter(duties__school_unit__in=units, removed_at__isnull=True).distinct()


def teaching_groups_with_results(user: AnyUser) -> QuerySet:
    """Groups whose results the user may see: every group of a unit with VIEW_ALL_RESULTS, plus
    the groups where they hold the group-level permission (their own, as a teacher) at a unit
    where they hold VIEW_GROUP_RESULTS, so a group moved to another unit never stays visible."""
    if not user.is_authenticated:
        return TeachingGroup.objects.none()
    own = Subquery(
        TeachingGroupUserObjectPermission.objects.filter(
            user_id=user.pk, permission__codename=Capability.VIEW_GROUP_RESULTS.value
        ).values("content_object_id")
    )
    return TeachingGroup.objects.filter(
        Q(id__in=own, school_unit__in=_unit_ids_with(user, Capability.VIEW_GROUP_RESULTS))
        | Q(school_unit__in=_unit_ids_with(user, Capability.VIEW_ALL_RESULTS))
    )


# --- Pages and API of the schools app ---------------------------------------------------------


def school_units_visible_to(user: AnyUser | None) -> QuerySet:
    """Units the user may open at all: where they hold any role (Övrig skolpersonal included),
    plus every unit of an organiser they administer."""
    if user is None or not user.is_authenticated:
        return SchoolUnit.objects.none()
    held = Q(pk__in=[])
    if user.person_id is not None:
        held = Q(
            id__in=Subquery(
                RoleAssignment.objects.filter(person_id=user.person_id).values("school_unit_id")
            )
        )
    administered = Q(
        organiser__in=Subquery(
            OrganiserAdministrator.objects.filter(user_id=user.pk).values("organiser_id")
        )
    )
    return SchoolUnit.objects.filter(held | administered, removed_at__isnull=True).select_related(
        "organiser"
    )


def access_visible_school_unit(*, user: AnyUser, public_id) -> SchoolUnit:
    """The unit if the user may open it (any role, or organiser administrator); otherwise 404."""
    return get_by_public_id(school_units_visible_to(user), public_id, "No such school unit.")


def persons_of_unit(*, school_unit: SchoolUnit) -> QuerySet:
    """Persons the organiser transferred into `school_unit` (a duty or an enrolment there), and
    anyone still holding a role there; one statement with subqueries."""
    return Person.objects.filter(
        Q(id__in=Subquery(Duty.objects.filter(school_unit=school_unit).values("person_id")))
        | Q(id__in=Subquery(Enrolment.objects.filter(school_unit=school_unit).values("person_id")))
        | Q(
            id__in=Subquery(
                RoleAssignment.objects.filter(school_unit=school_unit).values("person_id")
            )
        ),
        organiser_id=school_unit.organiser_id,
    )


def person_of_unit(*, school_unit: SchoolUnit, public_id) -> Person:
    """A person of `school_unit` (see `persons_of_unit`), for role changes; anyone else, a person
    of a sibling unit included, is 404 as for a missing one. Whether they may hold the role asked
    for is the role service's rule, explained in words."""
    persons = persons_of_unit(school_unit=school_unit)
    return get_by_public_id(persons, public_id, "No such person.")


def staff_with_roles(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    """Staff of the unit with their roles there prefetched as `unit_roles` (two queries)."""
    return (
        staff_of(user=user, school_unit=school_unit)
        .prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.filter(school_unit=school_unit).order_by("role"),
                to_attr="unit_roles",
            )
        )
        .order_by("family_name", "given_name")
    )


def teaching_groups_of(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    """The unit's teaching groups with members and teachers, if the user may see students."""
    units = school_units_for(user, Capability.VIEW_STUDENTS).filter(pk=school_unit.pk)
    return (
        TeachingGroup.objects.filter(school_unit__in=units)
        .prefetch_related("members", "teachers")
        .order_by("name")
    )


def _role_labels(codes) -> list[str]:
    known = {r.value: r for r in Role}
    return [str(ROLE_TABLE[known[c]].label) if c in known else str(c) for c in codes or []]


def role_history(*, school_unit: SchoolUnit, limit: int = 50) -> list[dict]:
    """Recent role changes at the unit, newest first, with the names of actor and person."""
    events = list(
        AuditEvent.objects.filter(scope=school_unit.public_id, action__in=AuditAction.of("role"))
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
    full = {
        str(p.public_id): p.full_name
        for p in Person.objects.filter(
            public_id__in=[e.target_id for e in events], organiser_id=school_unit.organiser_id
        ).only("public_id", "given_name", "family_name")
    }
    return [
        {
            "at": e.at,
            "action": e.action,
            "actor": (e.actor.get_full_name() or e.actor.username) if e.actor else "",
            "person": full.get(e.target_id, ""),
            "before": _role_labels(e.before),
            "after": _role_labels(e.after),
            "reason": e.reason,
        }
        for e in events
    ]


def students_with_year(*, user: AnyUser, school_unit: SchoolUnit, search: str = "") -> QuerySet:
    """`students_of`, ordered by name, with `school_year` at this unit annotated (one query)."""
    year = Enrolment.objects.filter(person_id=OuterRef("pk"), school_unit=school_unit).values(
        "school_year"
    )[:1]
    return (
        students_of(user=user, school_unit=school_unit, search=search)
        .annotate(school_year=Subquery(year))
        .order_by("family_name", "given_name", "id")
    )


def role_assignments_of(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    """The unit's role assignments, if the user may see its staff."""
    units = school_units_for(user, Capability.VIEW_STAFF).filter(pk=school_unit.pk)
    return (
        RoleAssignment.objects.filter(school_unit__in=units)
        .select_related("person")
        .order_by("person__family_name", "person__given_name", "role")
    )
