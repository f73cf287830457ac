"""Who sees which results: the one place that decides.

- head teacher, school administrator, test administrator (VIEW_ALL_RESULTS): the whole unit;
- teachers (VIEW_GROUP_RESULTS): the students of the teaching groups they teach now; a teacher who
  left a group loses the group permission and with it the results;
- assessors, proctors, other staff, organiser administrators and the platform operator: no
  student's result (organiser administrators get follow-up counts through `results.follow_up`).

Everything outside a user's scope is `NotFound`, worded as for a missing id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from provplattform.errors import NotFound
from provplattform.lookup import get_by_public_id
from schools import selectors as school_selectors
from schools.models import AnyUser, Person, SchoolUnit, TeachingGroup
from schools.roles import Capability

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class ResultScope:
    """What one user may see of one unit's results: the whole unit, or some of its groups."""

    school_unit: SchoolUnit
    whole_unit: bool
    may_export_unit: bool
    group_ids: frozenset[int]

    def groups(self) -> QuerySet:
        qs = TeachingGroup.objects.filter(school_unit=self.school_unit)
        return qs if self.whole_unit else qs.filter(id__in=self.group_ids)

    def students(self) -> QuerySet:
        """The students whose results this user may see (one query with a subquery)."""
        if self.whole_unit:
            return Person.objects.filter(
                enrolments__school_unit=self.school_unit, removed_at__isnull=True
            ).distinct()
        return Person.objects.filter(
            groups__id__in=self.group_ids, removed_at__isnull=True
        ).distinct()


def _not_found(what: StrOrPromise) -> NotFound:
    return NotFound(_("No such %(what)s.") % {"what": what})


def result_scope(*, user: AnyUser, school_unit: SchoolUnit) -> ResultScope | None:
    """The user's results scope at `school_unit`, or None when they see no results there."""
    caps = school_selectors.capabilities_at(user=user, school_unit=school_unit)
    if Capability.VIEW_ALL_RESULTS in caps:
        return ResultScope(school_unit, True, Capability.EXPORT_RESULTS in caps, frozenset())
    if Capability.VIEW_GROUP_RESULTS not in caps:
        return None
    groups = frozenset(
        school_selectors.teaching_groups_with_results(user)
        .filter(school_unit=school_unit)
        .values_list("id", flat=True)
    )
    if not groups:
        return None
    return ResultScope(school_unit, False, False, groups)


def units_with_results(user: AnyUser) -> QuerySet:
    """Units where the user sees some results (for the menu and the unit picker)."""
    all_units = school_selectors.school_units_for(user, Capability.VIEW_ALL_RESULTS)
    group_units = school_selectors.teaching_groups_with_results(user).values("school_unit_id")
    return SchoolUnit.objects.filter(id__in=all_units.values("id")) | SchoolUnit.objects.filter(
        id__in=group_units
    )


def access_results(*, user: AnyUser, unit_public_id) -> ResultScope:
    """The scope at the unit named by `unit_public_id`; NotFound if the user sees none there."""
    try:
        unit = SchoolUnit.objects.get(public_id=unit_public_id, removed_at__isnull=True)
    except (SchoolUnit.DoesNotExist, ValueError, ValidationError) as exc:
        raise _not_found(_("school unit")) from exc
    scope = result_scope(user=user, school_unit=unit)
    if scope is None:
        raise _not_found(_("school unit"))
    return scope


def access_unit_results(*, user: AnyUser, unit_public_id, export: bool = False) -> ResultScope:
    """The whole unit's results: only for those who see the whole unit (and may export it)."""
    scope = access_results(user=user, unit_public_id=unit_public_id)
    if not scope.whole_unit or (export and not scope.may_export_unit):
        raise _not_found(_("school unit"))
    return scope


def access_group(*, scope: ResultScope, group_public_id) -> TeachingGroup:
    return get_by_public_id(scope.groups(), group_public_id, str(_not_found(_("teaching group"))))


def access_student(*, scope: ResultScope, person_public_id) -> Person:
    return get_by_public_id(scope.students(), person_public_id, str(_not_found(_("student"))))
