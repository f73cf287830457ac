"""Second marking: the lead samples responses that a second assessor scores blind, sees how well
assessors agree, and decides where they differ.

- A sample is a share of each item's responses (rounded up), of every item or of named items. A
  sampled response goes to a second assessor other than its first, the least loaded first.
- The second assessor sees neither the first score nor who gave it; the first assessor never
  sees the second. The second score does not count.
- Where the two differ, the lead decides: the decided points become the Score (source DECIDED,
  audited with the reason); the first assessor's points are kept on the SecondMarking, so the
  agreement figures do not change after a decision.
- Agreement per item and per assessor pair: exact agreement, mean absolute difference and
  Cohen's weighted kappa with quadratic weights (grading.agreement).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.models import Item, Subtest
from grading.agreement import Agreement, Weights, agreement_of
from grading.hooks import scores_changed_notify
from grading.models import GradingAssignment, Score, ScoreSource, SecondMarking
from grading.scoring_services import ScoreRefused, points_checked
from grading.selectors import eligible_assessors
from provplattform.audit import AuditAction, audit_record
from provplattform.errors import Conflict, NotFound, Refused
from schools.models import Person, SchoolUnit, User
from schools.roles import Capability
from schools.selectors import user_has_capability

WEIGHTS: Weights = "quadratic"


def _require_lead(*, actor: User, school_unit: SchoolUnit) -> None:
    if not user_has_capability(
        user=actor, school_unit=school_unit, capability=Capability.PREPARE_GRADING
    ):
        raise NotFound()


def second_marking_sample(
    *,
    actor: User,
    school_unit: SchoolUnit,
    subtest: Subtest,
    assessors: list[Person],
    percent: int,
    items: list[Item] | None = None,
    seed: int | None = None,
) -> list[SecondMarking]:
    """Sample `percent` % (rounded up, at least one) of each item's assigned responses that are
    not sampled yet, of `items` or of every item; each goes to one of `assessors` who is not its
    first assessor. Returns the new second markings."""
    _require_lead(actor=actor, school_unit=school_unit)
    if not 1 <= int(percent) <= 100:
        raise Refused(_("Choose a share between 1 and 100 per cent."))
    eligible = set(eligible_assessors(school_unit=school_unit).values_list("pk", flat=True))
    chosen = [p for p in assessors if p.pk in eligible]
    if not chosen or len(chosen) != len(assessors):
        raise Refused(_("Choose second assessors who assess at this school unit."))
    assignments = GradingAssignment.objects.filter(
        plan__school_unit=school_unit,
        plan__subtest=subtest,
        score__second_marking__isnull=True,
    ).select_related("score")
    if items is not None:
        assignments = assignments.filter(score__item__in=items)
    by_item: dict[int, list[GradingAssignment]] = defaultdict(list)
    for assignment in assignments.order_by("score_id"):
        by_item[assignment.score.item_id].append(assignment)
    rng = random.Random(seed)
    load = {p.pk: SecondMarking.objects.filter(assessor=p).count() for p in chosen}
    created: list[SecondMarking] = []
    with transaction.atomic():
        for item_id in sorted(by_item):
            pool = by_item[item_id]
            wanted = max(1, math.ceil(len(pool) * int(percent) / 100))
            for assignment in rng.sample(pool, min(wanted, len(pool))):
                candidates = [p for p in chosen if p.pk != assignment.assessor_id]
                if not candidates:
                    continue
                second = min(candidates, key=lambda p: (load[p.pk], p.pk))
                load[second.pk] += 1
                created.append(
                    SecondMarking(
                        school_unit=school_unit,
                        score=assignment.score,
                        assessor=second,
                        requested_by=actor,
                    )
                )
        SecondMarking.objects.bulk_create(created)
        audit_record(
            actor=actor,
            action=AuditAction.SCORE_SECOND_MARKING_SAMPLED,
            target=subtest,
            after={
                "percent": int(percent),
                "items": [str(i.public_id) for i in items] if items is not None else "all",
                "responses": len(created),
                "assessors": [str(p.public_id) for p in chosen],
            },
            scope=school_unit,
        )
    return created


def second_marking_save(
    *, actor: User, marking: SecondMarking, points: Any, criteria_points: dict | None, comment: str,
    version: Any,
) -> SecondMarking:  # fmt: skip
    """The second assessor's blind score (optimistic locking like the first score)."""
    if marking.decided_at is not None:
        raise Conflict(_("The lead has already decided this response."))
    item = marking.score.item
    total, per_criterion = points_checked(
        score_item=item, points=points, criteria_points=criteria_points
    )
    try:
        expected = int(version)
    except (TypeError, ValueError) as exc:
        raise ScoreRefused(_("The form is out of date; reload the response.")) from exc
    with transaction.atomic():
        before = {"points": marking.points, "version": expected}
        updated = SecondMarking.objects.filter(pk=marking.pk, version=expected).update(
            points=total,
            criteria_points=per_criterion,
            comment=(comment or "")[:5000],
            assessed_at=timezone.now(),
            version=expected + 1,
            modified=timezone.now(),
        )
        if not updated:
            raise Conflict()
        marking.refresh_from_db()
        audit_record(
            actor=actor,
            action=AuditAction.SCORE_SECOND_MARKED,
            target=marking.score,
            before=before,
            after={"points": total, "criteria_points": per_criterion, "version": expected + 1},
            scope=marking.school_unit,
        )
    return marking


def first_points(marking: SecondMarking) -> int | None:
    """The first assessor's points: kept on the marking once decided, else the score's own."""
    if marking.decided_at is not None:
        return marking.first_points
    score = marking.score
    return score.points if score.source in (ScoreSource.PERSON, ScoreSource.OVERRIDE) else None


def second_marking_decide(
    *, actor: User, marking: SecondMarking, points: Any, reason: str
) -> Score:
    """The lead decides a response both assessors scored; the decided points count."""
    _require_lead(actor=actor, school_unit=marking.school_unit)
    if marking.decided_at is not None:
        raise Conflict(_("This response is already decided."))
    if marking.points is None or first_points(marking) is None:
        raise Refused(_("Both assessors must have scored the response first."))
    score = marking.score
    decided = points_checked(score_item=score.item, points=points, criteria_points=None)[0]
    with transaction.atomic():
        score = (
            Score.objects.select_for_update()
            .select_related("attempt__sitting", "item")
            .get(pk=score.pk)
        )
        locked = SecondMarking.objects.select_for_update().get(pk=marking.pk)
        if locked.decided_at is not None:
            raise Conflict(_("This response is already decided."))
        before = {"points": score.points, "source": score.source, "version": score.version}
        now = timezone.now()
        locked.first_points = score.points
        locked.decided_points = decided
        locked.decided_by = actor
        locked.decided_at = now
        locked.save()
        score.points = decided
        score.criteria_points = {}
        score.source = ScoreSource.DECIDED
        score.assessed_by = actor
        score.assessed_at = now
        score.version += 1
        score.save()
        audit_record(
            actor=actor,
            action=AuditAction.SCORE_DECIDED,
            target=score,
            before=before,
            after={
                "points": decided,
                "source": ScoreSource.DECIDED,
                "version": score.version,
                "first": locked.first_points,
                "second": locked.points,
            },
            reason=(reason or "")[:2000],
            scope=marking.school_unit,
        )
        scores_changed_notify(
            school_unit_id=score.attempt.sitting.school_unit_id,
            subtest_ids=[score.attempt.sitting.subtest_id],
            person_ids=[score.attempt.person_id],
        )
    marking.refresh_from_db()
    return score


# --- the lead's figures --------------------------------------------------------------------------


@dataclass
class ItemAgreement:
    item: Item
    figures: Agreement
    pairs: list[tuple[Person, Person, Agreement]]  # (first assessor, second assessor, figures)
    sampled: int
    second_scored: int


def agreement_report(*, school_unit: SchoolUnit, subtest: Subtest | None) -> dict:
    """Per item and per assessor pair the agreement figures; the disagreements to decide (of
    one subtest, or of every subtest at the unit)."""
    query = SecondMarking.objects.filter(school_unit=school_unit)
    if subtest is not None:
        query = query.filter(score__item__subtest=subtest)
    markings = list(
        query
        .select_related(
            "score__item", "score__attempt__person", "score__grading_assignment__assessor",
            "assessor",
        )
        .order_by("score__item__subtest_id", "score__item__position", "score_id")
    )  # fmt: skip
    per_item: dict[int, list[SecondMarking]] = defaultdict(list)
    for marking in markings:
        per_item[marking.score.item_id].append(marking)
    items: list[ItemAgreement] = []
    disagreements: list[SecondMarking] = []
    decided: list[SecondMarking] = []
    for rows in per_item.values():
        item = rows[0].score.item
        pairs_all: list[tuple[int, int]] = []
        by_pair: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        people: dict[int, Person] = {}
        for marking in rows:
            first = first_points(marking)
            if marking.decided_at is not None:
                decided.append(marking)
            if first is None or marking.points is None:
                continue
            pairs_all.append((first, marking.points))
            first_assessor = marking.score.grading_assignment.assessor
            people[first_assessor.pk] = first_assessor
            people[marking.assessor_id] = marking.assessor
            by_pair[(first_assessor.pk, marking.assessor_id)].append((first, marking.points))
            if first != marking.points and marking.decided_at is None:
                disagreements.append(marking)
        items.append(
            ItemAgreement(
                item=item,
                figures=agreement_of(pairs_all, max_points=item.max_points, weights=WEIGHTS),
                pairs=[
                    (
                        people[a],
                        people[b],
                        agreement_of(p, max_points=item.max_points, weights=WEIGHTS),
                    )
                    for (a, b), p in sorted(by_pair.items())
                ],
                sampled=len(rows),
                second_scored=sum(1 for m in rows if m.points is not None),
            )
        )
    return {
        "items": items,
        "disagreements": disagreements,
        "decided": decided,
        "weights": WEIGHTS,
    }
