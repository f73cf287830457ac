"""Reads of the assessor's desk: one's own queue, one response at a time, second markings.

Everything an assessor reads is reached through their assignments: a score assigned to someone
else (at any unit) is NotFound, worded like a missing one. The unit must also grant them ASSESS,
so an assessor whose role was removed sees nothing any more.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from delivery.models import Response
from exams.models import Item, ItemKind
from grading.anonymity import student_code
from grading.criteria import Criterion, criteria_of
from grading.models import Score, ScoreFlag, SecondMarking
from provplattform.errors import NotFound
from schools.models import AnyUser, SchoolUnit
from schools.roles import Capability
from schools.selectors import user_has_capability


class Status:
    UNASSESSED = "unassessed"
    ASSESSED = "assessed"


@dataclass(frozen=True)
class QueueFilter:
    item: str = ""  # item public id
    status: str = ""  # Status.UNASSESSED / Status.ASSESSED / "" for all
    flagged: bool = False

    @classmethod
    def from_params(cls, params) -> QueueFilter:
        status = params.get("status", "")
        return cls(
            item=params.get("item", "")[:64],
            status=status if status in (Status.UNASSESSED, Status.ASSESSED) else "",
            flagged=params.get("flagged") in ("1", "true", "on"),
        )

    def as_query(self) -> str:
        parts = []
        if self.item:
            parts.append(f"item={self.item}")
        if self.status:
            parts.append(f"status={self.status}")
        if self.flagged:
            parts.append("flagged=1")
        return "&".join(parts)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except (ValueError, TypeError):
        return False
    return True


def assigned_scores(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    """Every score assigned to the user at the unit (none without ASSESS there)."""
    person_id = getattr(user, "person_id", None)
    if person_id is None or not user_has_capability(
        user=user, school_unit=school_unit, capability=Capability.ASSESS
    ):
        return Score.objects.none()
    return Score.objects.filter(
        grading_assignment__assessor_id=person_id,
        grading_assignment__plan__school_unit=school_unit,
    )


def desk_queue(
    *, user: AnyUser, school_unit: SchoolUnit, filters: QueueFilter | None = None
) -> QuerySet:
    """The user's queue, ordered item by item (the same question across students keeps the
    judgement consistent), then by student."""
    filters = filters or QueueFilter()
    qs = assigned_scores(user=user, school_unit=school_unit).annotate(
        is_flagged=Exists(ScoreFlag.objects.filter(score=OuterRef("pk")))
    )
    if filters.item:
        qs = qs.filter(item__public_id=filters.item) if _is_uuid(filters.item) else qs.none()
    if filters.status == Status.UNASSESSED:
        qs = qs.filter(points__isnull=True)
    elif filters.status == Status.ASSESSED:
        qs = qs.filter(points__isnull=False)
    if filters.flagged:
        qs = qs.filter(is_flagged=True)
    return qs.select_related(
        "item", "item__subtest", "attempt__person", "attempt__sitting"
    ).order_by("item__subtest_id", "item__position", "item_id", "attempt__person__family_name",
               "attempt__person__given_name", "attempt_id")  # fmt: skip


def desk_progress(*, user: AnyUser, school_unit: SchoolUnit) -> dict:
    """{"assessed": 34, "total": 120} over the whole queue, whatever the filter."""
    counts = assigned_scores(user=user, school_unit=school_unit).aggregate(
        total=Count("pk"), assessed=Count("pk", filter=Q(points__isnull=False))
    )
    return {"assessed": counts["assessed"], "total": counts["total"]}


def desk_items(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    """The items of the user's queue, for the item filter."""
    ids = assigned_scores(user=user, school_unit=school_unit).values("item_id")
    return (
        Item.objects.filter(id__in=ids).select_related("subtest").order_by("subtest_id", "position")
    )


def access_assigned_score(*, user: AnyUser, school_unit: SchoolUnit, public_id) -> Score:
    """A score assigned to the user at the unit; anything else is NotFound."""
    if not _is_uuid(public_id):
        raise NotFound()
    try:
        return (
            assigned_scores(user=user, school_unit=school_unit)
            .select_related("item", "item__subtest", "attempt__person", "grading_assignment")
            .get(public_id=public_id)
        )
    except Score.DoesNotExist as exc:
        raise NotFound() from exc


def neighbours(queue: QuerySet, score: Score) -> dict:
    """Position of `score` in `queue` (1-based) with the previous and next public ids."""
    ids = list(queue.values_list("public_id", flat=True))
    try:
        index = ids.index(score.public_id)
    except ValueError:
        return {"position": None, "count": len(ids), "previous": None, "next": None}
    return {
        "position": index + 1,
        "count": len(ids),
        "previous": ids[index - 1] if index > 0 else None,
        "next": ids[index + 1] if index + 1 < len(ids) else None,
    }


@dataclass
class ResponseView:
    """What the desk shows of one response: the item, the guide and the student's answer."""

    score: Score
    item: Item
    criteria: list[Criterion]
    answer_text: str = ""
    chosen: list[dict] = field(default_factory=list)  # the choices the student picked
    answered: bool = False
    student_flagged: bool = False
    code: str = ""
    student_name: str = ""
    flagged: bool = False


def response_view(*, score: Score) -> ResponseView:
    item = score.item
    response = Response.objects.filter(attempt_id=score.attempt_id, item_id=item.pk).first()
    content = response.content if response is not None else None
    person = score.attempt.person
    view = ResponseView(
        score=score,
        item=item,
        criteria=criteria_of(item.scoring_criteria, max_points=item.max_points),
        code=student_code(
            subtest_public_id=item.subtest.public_id, person_public_id=person.public_id
        ),
        student_name=person.full_name,
        student_flagged=bool(response and response.flagged),
        flagged=ScoreFlag.objects.filter(score=score).exists(),
    )
    if item.kind in (ItemKind.SINGLE_CHOICE, ItemKind.MULTIPLE_CHOICE):
        picked = [content] if isinstance(content, str) else list(content or [])
        view.chosen = [c for c in item.choices if c.get("id") in picked]
        view.answered = bool(view.chosen)
    elif content not in (None, ""):
        view.answer_text = content if isinstance(content, str) else str(content)
        view.answered = bool(view.answer_text.strip())
    return view


def machine_scores_of_attempt(*, user: AnyUser, school_unit: SchoolUnit, score: Score) -> QuerySet:
    """Machine scores of the same attempt, which the attempt's assessor may override."""
    return Score.objects.filter(attempt_id=score.attempt_id, source="machine").select_related(
        "item"
    )


def access_overridable_score(*, user: AnyUser, school_unit: SchoolUnit, public_id) -> Score:
    """A machine (or overridden) score the user may override: the lead and administrators
    (PREPARE_GRADING) at the unit, or an assessor with an assigned response of the same attempt.
    Anything else is NotFound."""
    if not _is_uuid(public_id):
        raise NotFound()
    qs = Score.objects.filter(
        public_id=public_id,
        source__in=["machine", "override"],
        attempt__sitting__school_unit=school_unit,
    ).select_related("item", "item__subtest", "attempt__person")
    if user_has_capability(
        user=user, school_unit=school_unit, capability=Capability.PREPARE_GRADING
    ):
        score = qs.first()
    else:
        mine = assigned_scores(user=user, school_unit=school_unit)
        score = qs.filter(attempt_id__in=mine.values("attempt_id")).first()
    if score is None:
        raise NotFound()
    return score


# --- second marking ----------------------------------------------------------------------------


def my_second_markings(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    person_id = getattr(user, "person_id", None)
    if person_id is None or not user_has_capability(
        user=user, school_unit=school_unit, capability=Capability.ASSESS
    ):
        return SecondMarking.objects.none()
    return (
        SecondMarking.objects.filter(school_unit=school_unit, assessor_id=person_id)
        .select_related("score__item", "score__item__subtest", "score__attempt__person")
        .order_by("score__item__subtest_id", "score__item__position", "score__attempt_id")
    )


def access_my_second_marking(*, user: AnyUser, school_unit: SchoolUnit, public_id) -> SecondMarking:
    if not _is_uuid(public_id):
        raise NotFound()
    try:
        return my_second_markings(user=user, school_unit=school_unit).get(public_id=public_id)
    except (SecondMarking.DoesNotExist, ValidationError) as exc:
        raise NotFound() from exc


def second_markings_of_unit(*, user: AnyUser, school_unit: SchoolUnit) -> QuerySet:
    """Every second marking at the unit, for the lead (PREPARE_GRADING)."""
    if not user_has_capability(
        user=user, school_unit=school_unit, capability=Capability.PREPARE_GRADING
    ):
        return SecondMarking.objects.none()
    return SecondMarking.objects.filter(school_unit=school_unit).select_related(
        "score__item",
        "score__item__subtest",
        "score__attempt__person",
        "score__grading_assignment__assessor",
        "assessor",
    )


def access_unit_second_marking(
    *, user: AnyUser, school_unit: SchoolUnit, public_id
) -> SecondMarking:
    if not _is_uuid(public_id):
        raise NotFound()
    try:
        return second_markings_of_unit(user=user, school_unit=school_unit).get(public_id=public_id)
    except SecondMarking.DoesNotExist as exc:
        raise NotFound() from exc
