"""Writes on the distribution of a subtest's grading: preview, confirm, redistribute, late
students, the school's grading date.

Invariants:
- only holders of PREPARE_GRADING at the unit (the assessment lead, the head teacher and the
  administrators) distribute or redistribute; an assessor has no operation that moves a response;
- assessors are staff of the unit who hold ASSESS there;
- confirming and redistributing are each one transaction and one audit row; an assessed response
  never moves; students who sit late are added without moving anything already assigned.
The rules themselves live in the pure core grading.distribution.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery.models import Attempt
from exams.models import Item, Subtest
from grading import distribution as core
from grading import selectors
from grading.models import DistributionMode, GradingAssignment, GradingPlan, OwnGroups
from provplattform.audit import AuditAction, audit_record
from provplattform.bulk import bulk_insert
from provplattform.errors import Conflict, NotFound, Refused
from schools.models import Person, SchoolUnit, User
from schools.roles import Capability
from schools.selectors import user_has_capability


@dataclass
class Choice:
    """What the lead chose on the distribution form."""

    assessors: list[Person]
    mode: str = DistributionMode.BY_STUDENT
    by_item_items: list[Item] = field(default_factory=list)
    own_groups: str = OwnGroups.ANY


@dataclass
class AssessorShare:
    person: Person
    responses: int = 0
    load: int = 0
    students: int = 0
    items: list[str] = field(default_factory=list)


@dataclass
class Preview:
    """Who gets what: one row per assessor, plus the assignment itself (score id -> person id)."""

    shares: list[AssessorShare]
    assignment: dict[int, int]
    moved: int = 0

    @property
    def responses(self) -> int:
        return len(self.assignment)

    @property
    def spread(self) -> int:
        loads = [s.load for s in self.shares]
        return max(loads) - min(loads) if loads else 0


def require_lead(*, actor: User, school_unit: SchoolUnit) -> None:
    if not user_has_capability(
        user=actor, school_unit=school_unit, capability=Capability.PREPARE_GRADING
    ):
        raise NotFound()


def choice_from(
    *,
    school_unit: SchoolUnit,
    subtest: Subtest,
    assessor_ids,
    mode: str = DistributionMode.BY_STUDENT,
    by_item_ids=(),
    own_groups: str = OwnGroups.ANY,
) -> Choice:
    """Resolve public ids from a form or API body; anything outside the unit is refused."""
    if mode not in DistributionMode.values:
        raise Refused(_("Choose how to distribute."), code="bad_mode")
    if own_groups not in OwnGroups.values:
        raise Refused(_("Choose what to do about own groups."), code="bad_own_groups")
    wanted = {str(i) for i in assessor_ids or []}
    if not wanted:
        raise Refused(_("Choose at least one assessor."), code="no_assessors")
    found = list(selectors.eligible_assessors(school_unit=school_unit).filter(public_id__in=wanted))
    if len(found) != len(wanted):
        raise Refused(
            _("Only staff of the school unit who may assess can be chosen."),
            code="not_an_assessor",
        )
    items: list[Item] = []
    if mode == DistributionMode.MIXED:
        chosen = {str(i) for i in by_item_ids or []}
        items = list(Item.objects.filter(subtest=subtest, public_id__in=chosen))
        if len(items) != len(chosen) or not items:
            raise Refused(_("Choose the items graded by item."), code="bad_items")
    return Choice(found, mode, items, own_groups)


def _works(*, school_unit: SchoolUnit, subtest: Subtest, lock: bool = False) -> list[core.Work]:
    scores = selectors.person_graded_scores(school_unit=school_unit, subtest=subtest)
    if lock:
        scores = scores.select_for_update(of=("self",))
    rows = scores.values_list(
        "pk",
        "attempt__person_id",
        "item_id",
        "item__max_points",
        "item__position",
        "grading_assignment__assessor_id",
        "points",
    )
    return [
        core.Work(pk, person, item, weight, position, assessor, points is not None)
        for pk, person, item, weight, position, assessor, points in rows
    ]


def _assessors(*, school_unit: SchoolUnit, people) -> list[core.Assessor]:
    own = selectors.own_students(school_unit=school_unit, person_ids=[p.pk for p in people])
    return [core.Assessor(p.pk, own.get(p.pk, frozenset())) for p in people]


def _preview(
    people, works: list[core.Work], assignment: dict, item_labels: dict[int, str]
) -> Preview:
    shares = {p.pk: AssessorShare(person=p) for p in people}
    students: dict[int, set] = defaultdict(set)
    items: dict[int, set] = defaultdict(set)
    moved = 0
    for work in works:
        key = assignment.get(work.key)
        if key is None:
            continue
        if work.assessor is not None and work.assessor != key:
            moved += 1
        share = shares.get(key)
        if share is None:  # an assessed response staying with someone no longer chosen
            continue
        share.responses += 1
        share.load += work.weight
        students[key].add(work.student)
        items[key].add(work.item)
    for key, share in shares.items():
        share.students = len(students[key])
        share.items = sorted(item_labels.get(i, "") for i in items[key])
    return Preview(list(shares.values()), assignment, moved)


def _labels(subtest: Subtest) -> dict[int, str]:
    return dict(Item.objects.filter(subtest=subtest).values_list("pk", "identifier"))


def _compute(*, school_unit, subtest, choice: Choice, fresh: bool, lock: bool = False) -> Preview:
    works = _works(school_unit=school_unit, subtest=subtest, lock=lock)
    if not works:
        raise Refused(_("There is nothing to assess by a person yet."), code="nothing_to_assess")
    run = core.distribute if fresh else core.redistribute
    assignment = run(
        works=works,
        assessors=_assessors(school_unit=school_unit, people=choice.assessors),
        mode=choice.mode,
        by_item_items={i.pk for i in choice.by_item_items},
        own_groups=choice.own_groups,
    )
    return _preview(choice.assessors, works, assignment, _labels(subtest))


def _confirmed_plan(school_unit, subtest) -> GradingPlan | None:
    return GradingPlan.objects.filter(
        school_unit=school_unit, subtest=subtest, confirmed_at__isnull=False
    ).first()


def distribution_preview(
    *, actor: User, school_unit: SchoolUnit, subtest: Subtest, choice: Choice
) -> Preview:
    """Who would get what; nothing is stored."""
    require_lead(actor=actor, school_unit=school_unit)
    if _confirmed_plan(school_unit, subtest):
        return _compute(school_unit=school_unit, subtest=subtest, choice=choice, fresh=False)
    return _compute(school_unit=school_unit, subtest=subtest, choice=choice, fresh=True)


def redistribution_preview(
    *, actor: User, school_unit: SchoolUnit, subtest: Subtest, choice: Choice
) -> Preview:
    """What a redistribution would move; nothing is stored."""
    require_lead(actor=actor, school_unit=school_unit)
    if not _confirmed_plan(school_unit, subtest):
        raise Conflict(_("Distribute the grading first."), code="not_distributed")
    return _compute(school_unit=school_unit, subtest=subtest, choice=choice, fresh=False)


def _plan_fields(choice: Choice) -> dict:
    return {
        "mode": choice.mode,
        "by_item_items": [str(i.public_id) for i in choice.by_item_items],
        "own_groups": choice.own_groups,
    }


def distribution_confirm(
    *, actor: User, school_unit: SchoolUnit, subtest: Subtest, choice: Choice
) -> GradingPlan:
    """Store the distribution (recomputed inside the transaction), audited once."""
    require_lead(actor=actor, school_unit=school_unit)
    with transaction.atomic():
        plan, _created = GradingPlan.objects.select_for_update().get_or_create(
            school_unit=school_unit, subtest=subtest
        )
        if plan.confirmed_at is not None:
            raise Conflict(
                _("The grading is already distributed; redistribute what is left instead."),
                code="already_distributed",
            )
        preview = _compute(
            school_unit=school_unit, subtest=subtest, choice=choice, fresh=True, lock=True
        )
        for key, value in _plan_fields(choice).items():
            setattr(plan, key, value)
        plan.confirmed_at = timezone.now()
        plan.confirmed_by = actor
        plan.save()
        bulk_insert(
            GradingAssignment,
            [
                GradingAssignment(plan=plan, score_id=score_id, assessor_id=person_id)
                for score_id, person_id in preview.assignment.items()
            ],
        )
        audit_record(
            actor=actor,
            action=AuditAction.GRADING_DISTRIBUTE,
            target=plan,
            after={
                **_plan_fields(choice),
                "responses": preview.responses,
                "loads": {str(s.person.public_id): s.load for s in preview.shares},
            },
            scope=school_unit,
        )
        return plan


def distribution_redistribute(
    *, actor: User, school_unit: SchoolUnit, subtest: Subtest, choice: Choice, reason: str = ""
) -> Preview:
    """Share out what is still unassessed among the chosen assessors; assessed responses stay.

    Only the lead and the administrators may: an assessor never moves a response.
    """
    require_lead(actor=actor, school_unit=school_unit)
    with transaction.atomic():
        plan = (
            GradingPlan.objects.select_for_update()
            .filter(school_unit=school_unit, subtest=subtest, confirmed_at__isnull=False)
            .first()
        )
        if plan is None:
            raise Conflict(_("Distribute the grading first."), code="not_distributed")
        preview = _compute(
            school_unit=school_unit, subtest=subtest, choice=choice, fresh=False, lock=True
        )
        current = dict(
            GradingAssignment.objects.filter(plan=plan).values_list("score_id", "assessor_id")
        )
        moves = [
            (score_id, person_id)
            for score_id, person_id in preview.assignment.items()
            if current.get(score_id) != person_id
        ]
        by_score = {
            a.score_id: a
            for a in GradingAssignment.objects.filter(
                plan=plan, score_id__in=[s for s, _p in moves]
            )
        }
        changed, created = [], []
        for score_id, person_id in moves:
            row = by_score.get(score_id)
            if row is None:
                created.append(
                    GradingAssignment(plan=plan, score_id=score_id, assessor_id=person_id)
                )
            else:
                row.assessor_id = person_id
                changed.append(row)
        GradingAssignment.objects.bulk_update(changed, ["assessor", "modified"], batch_size=2000)
        GradingAssignment.objects.bulk_create(created, batch_size=2000)
        plan.own_groups = choice.own_groups
        plan.save(update_fields=["own_groups", "modified"])
        audit_record(
            actor=actor,
            action=AuditAction.GRADING_REDISTRIBUTE,
            target=plan,
            after={
                "moved": len(moves),
                "assessors": [str(p.public_id) for p in choice.assessors],
                "loads": {str(s.person.public_id): s.load for s in preview.shares},
            },
            reason=reason,
            scope=school_unit,
        )
        preview.moved = len(moves)
        return preview


def plan_add_newcomers(*, attempt: Attempt) -> int:
    """A student who sat after the distribution joins it; nothing assigned moves.

    Called inside the submit's transaction (after machine scoring). Returns how many were added.
    """
    sitting = attempt.sitting
    plan = (
        GradingPlan.objects.select_for_update()
        .filter(
            school_unit_id=sitting.school_unit_id,
            subtest_id=sitting.subtest_id,
            confirmed_at__isnull=False,
        )
        .first()
    )
    if plan is None:
        return 0
    unit = plan.school_unit
    works = _works(school_unit=unit, subtest=plan.subtest)
    newcomers = [w for w in works if w.assessor is None and not w.assessed]
    if not newcomers:
        return 0
    held = {w.assessor for w in works if w.assessor is not None}
    people = list(selectors.eligible_assessors(school_unit=unit).filter(pk__in=held))
    if not people:
        return 0  # nobody left to give them to: the lead redistributes
    by_item = set(
        Item.objects.filter(public_id__in=plan.by_item_items).values_list("pk", flat=True)
    )
    added = core.place_newcomers(
        works=[w for w in works if w.assessor is not None],
        newcomers=newcomers,
        assessors=_assessors(school_unit=unit, people=people),
        mode=plan.mode,
        by_item_items=by_item,
        own_groups=plan.own_groups,
    )
    GradingAssignment.objects.bulk_create(
        [GradingAssignment(plan=plan, score_id=s, assessor_id=p) for s, p in added.items()]
    )
    audit_record(
        actor=None,
        action=AuditAction.GRADING_ASSIGN_LATE,
        target=plan,
        after={"responses": len(added), "person": str(attempt.person.public_id)},
        scope=unit,
    )
    return len(added)


def plan_set_due_date(
    *, actor: User, school_unit: SchoolUnit, subtest: Subtest, due_date: datetime.date | None
) -> GradingPlan:
    """The school's own date by which the grading of the subtest is done."""
    require_lead(actor=actor, school_unit=school_unit)
    with transaction.atomic():
        plan, _created = GradingPlan.objects.select_for_update().get_or_create(
            school_unit=school_unit, subtest=subtest
        )
        before = plan.due_date.isoformat() if plan.due_date else None
        plan.due_date = due_date
        plan.save(update_fields=["due_date", "modified"])
        audit_record(
            actor=actor,
            action=AuditAction.GRADING_DUE_DATE,
            target=plan,
            before={"due_date": before},
            after={"due_date": due_date.isoformat() if due_date else None},
            scope=school_unit,
        )
        return plan


def unassigned_count(*, school_unit: SchoolUnit, subtest: Subtest) -> int:
    return (
        selectors.person_graded_scores(school_unit=school_unit, subtest=subtest)
        .filter(grading_assignment__isnull=True)
        .count()
    )
