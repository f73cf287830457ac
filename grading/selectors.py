"""Reads of grading data, always scoped to one school unit the actor may act on.

Anything outside the actor's scope is NotFound, worded exactly like a missing id.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from delivery.models import AttemptStatus
from exams.models import Item, ItemKind, Sitting, Subtest
from grading.models import GradingAssignment, GradingPlan, Score
from provplattform.lookup import get_by_public_id
from schools.models import (
    AnyUser,
    Person,
    SchoolUnit,
    SchoolUnitUserObjectPermission,
    TeachingGroup,
)
from schools.roles import Capability
from schools.selectors import school_units_for

PERSON_GRADED = (ItemKind.EXTENDED_TEXT,)


def access_unit(*, user: AnyUser, public_id, capability: Capability | str) -> SchoolUnit:
    """The unit, if the user holds `capability` there; NotFound otherwise."""
    return get_by_public_id(school_units_for(user, capability), public_id)


def subtests_at(*, school_unit: SchoolUnit) -> QuerySet:
    """Subtests with at least one submitted attempt at the unit (what there is to grade)."""
    submitted = Sitting.objects.filter(
        school_unit=school_unit,
        subtest=OuterRef("pk"),
        attempts__status=AttemptStatus.SUBMITTED,
    )
    return (
        Subtest.objects.filter(Exists(submitted))
        .select_related("test")
        .order_by("test__title", "position")
    )


def access_subtest(*, school_unit: SchoolUnit, public_id) -> Subtest:
    """A subtest that has sittings at the unit; NotFound for any other."""
    return get_by_public_id(
        Subtest.objects.filter(sittings__school_unit=school_unit).select_related("test").distinct(),
        public_id,
    )


def plan_of(*, school_unit: SchoolUnit, subtest: Subtest) -> GradingPlan | None:
    return GradingPlan.objects.filter(school_unit=school_unit, subtest=subtest).first()


def scores_of(*, school_unit: SchoolUnit, subtest: Subtest) -> QuerySet:
    """Every score of the submitted attempts of `subtest` at the unit."""
    return Score.objects.filter(
        attempt__sitting__school_unit=school_unit,
        attempt__sitting__subtest=subtest,
        attempt__status=AttemptStatus.SUBMITTED,
    )


def person_graded_scores(*, school_unit: SchoolUnit, subtest: Subtest) -> QuerySet:
    return scores_of(school_unit=school_unit, subtest=subtest).filter(item__kind__in=PERSON_GRADED)


def eligible_assessors(*, school_unit: SchoolUnit) -> QuerySet:
    """Staff of the unit who hold the assessor capability there (teachers included)."""
    holders = SchoolUnitUserObjectPermission.objects.filter(
        content_object=school_unit, permission__codename=Capability.ASSESS.value
    ).values("user__person_id")
    return (
        Person.objects.filter(
            pk__in=holders, duties__school_unit=school_unit, removed_at__isnull=True
        )
        .distinct()
        .order_by("family_name", "given_name", "pk")
    )


def own_students(*, school_unit: SchoolUnit, person_ids) -> dict[int, frozenset[int]]:
    """The students of the teaching groups each person teaches at the unit."""
    own: dict[int, set[int]] = {pk: set() for pk in person_ids}
    rows = TeachingGroup.objects.filter(
        school_unit=school_unit, teachers__in=list(own)
    ).values_list("teachers", "members")
    for teacher, member in rows:
        if teacher in own and member is not None:
            own[teacher].add(member)
    return {pk: frozenset(students) for pk, students in own.items()}


# --- completeness -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    assigned: int
    assessed: int

    @property
    def remaining(self) -> int:
        return self.assigned - self.assessed


def subtest_progress(*, school_unit: SchoolUnit, subtest: Subtest) -> Progress:
    """Every score of the subtest at the unit: how many, how many assessed."""
    counts = scores_of(school_unit=school_unit, subtest=subtest).aggregate(
        total=Count("pk"), done=Count("pk", filter=Q(points__isnull=False))
    )
    return Progress(counts["total"], counts["done"])


def progress_by_assessor(*, school_unit: SchoolUnit, subtest: Subtest) -> list[dict]:
    rows = (
        GradingAssignment.objects.filter(plan__school_unit=school_unit, plan__subtest=subtest)
        .values("assessor_id", "assessor__given_name", "assessor__family_name")
        .annotate(
            assigned=Count("pk"),
            assessed=Count("pk", filter=Q(score__points__isnull=False)),
            load=Coalesce(Sum("score__item__max_points"), 0),
        )
        .order_by("assessor__family_name", "assessor__given_name", "assessor_id")
    )
    return [
        {
            "assessor_id": r["assessor_id"],
            "name": f"{r['assessor__given_name']} {r['assessor__family_name']}",
            "assigned": r["assigned"],
            "assessed": r["assessed"],
            "remaining": r["assigned"] - r["assessed"],
            "load": r["load"],
        }
        for r in rows
    ]


def progress_by_item(*, school_unit: SchoolUnit, subtest: Subtest) -> list[dict]:
    rows = (
        scores_of(school_unit=school_unit, subtest=subtest)
        .values("item_id", "item__identifier", "item__position", "item__kind")
        .annotate(assigned=Count("pk"), assessed=Count("pk", filter=Q(points__isnull=False)))
        .order_by("item__position", "item_id")
    )
    return [
        {
            "item_id": r["item_id"],
            "identifier": r["item__identifier"],
            "person_graded": r["item__kind"] in PERSON_GRADED,
            "assigned": r["assigned"],
            "assessed": r["assessed"],
            "remaining": r["assigned"] - r["assessed"],
        }
        for r in rows
    ]


def unassessed_scores(*, school_unit: SchoolUnit, subtest: Subtest) -> QuerySet:
    return (
        scores_of(school_unit=school_unit, subtest=subtest)
        .filter(points__isnull=True)
        .select_related("item", "attempt__person", "grading_assignment__assessor")
        .order_by("item__position", "attempt__person__family_name", "pk")
    )


def subtest_complete(school_unit: SchoolUnit, subtest: Subtest) -> bool:
    """Whether every response of the subtest at the unit is assessed: results unlock then.

    False while nothing is submitted, or while a submitted attempt has no scores yet.
    """
    scores = scores_of(school_unit=school_unit, subtest=subtest)
    if not scores.exists() or scores.filter(points__isnull=True).exists():
        return False
    items = Item.objects.filter(subtest=subtest).count()
    submitted = scores.values("attempt_id").annotate(n=Count("pk")).filter(n__lt=items).exists()
    return not submitted


def subtests_overview(*, school_unit: SchoolUnit) -> list[dict]:
    """`subtests_at` with each subtest's plan, progress and completeness (as `plan_of`,
    `subtest_progress` and `subtest_complete` say) in a fixed number of queries, whatever the
    number of subtests: the rows of the grading overview."""
    subtests = list(subtests_at(school_unit=school_unit))
    ids = [s.pk for s in subtests]
    plans = {
        p.subtest_id: p
        for p in GradingPlan.objects.filter(school_unit=school_unit, subtest_id__in=ids)
    }
    scores = Score.objects.filter(
        attempt__sitting__school_unit=school_unit,
        attempt__sitting__subtest_id__in=ids,
        attempt__status=AttemptStatus.SUBMITTED,
    )
    counts = {
        r["attempt__sitting__subtest_id"]: Progress(r["total"], r["done"])
        for r in scores.values("attempt__sitting__subtest_id").annotate(
            total=Count("pk"), done=Count("pk", filter=Q(points__isnull=False))
        )
    }
    items = dict(
        Item.objects.filter(subtest_id__in=ids)
        .values("subtest_id")
        .annotate(n=Count("pk"))
        .values_list("subtest_id", "n")
    )
    short = {
        r["attempt__sitting__subtest_id"]
        for r in scores.values("attempt__sitting__subtest_id", "attempt_id").annotate(n=Count("pk"))
        if r["n"] < items.get(r["attempt__sitting__subtest_id"], 0)
    }
    rows = []
    for subtest in subtests:
        progress = counts.get(subtest.pk, Progress(0, 0))
        complete = progress.assigned > 0 and progress.remaining == 0 and subtest.pk not in short
        rows.append(
            {
                "subtest": subtest,
                "progress": progress,
                "plan": plans.get(subtest.pk),
                "complete": complete,
            }
        )
    return rows


def assessor_work_left(
    *, person: Person, school_unit: SchoolUnit | None = None
) -> list[dict[str, Any]]:
    """Per plan: how many of the person's assigned responses are still unassessed (plain dicts:
    the panel adds to them)."""
    rows = GradingAssignment.objects.filter(assessor=person, score__points__isnull=True)
    if school_unit is not None:
        rows = rows.filter(plan__school_unit=school_unit)
    return [
        dict(row)
        for row in rows.values(
            "plan_id",
            "plan__due_date",
            "plan__subtest__title",
            "plan__subtest__test__title",
            "plan__subtest__public_id",
            "plan__school_unit_id",
        )
        .annotate(left=Count("pk"))
        .order_by("plan__due_date", "plan_id")
    ]


def plans_due(*, school_unit: SchoolUnit, today: datetime.date) -> list[dict]:
    """The unit's grading plans with a date, each with the number of responses left: those
    still ahead, and those past their date with work left."""
    plans = (
        GradingPlan.objects.filter(school_unit=school_unit, due_date__isnull=False)
        .select_related("subtest__test")
        .order_by("due_date")
    )
    rows = []
    for plan in plans:
        left = (
            person_graded_scores(school_unit=school_unit, subtest=plan.subtest)
            .filter(points__isnull=True)
            .count()
        )
        due = plan.due_date
        if due is not None and (due >= today or left):  # always dated: the query asks for it
            rows.append({"plan": plan, "left": left, "overdue": due < today})
    return rows
