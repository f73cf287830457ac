"""Submitted attempts with scores, a grading plan and assignments, for the desk's tests."""

from __future__ import annotations

from django.utils import timezone

from delivery.models import Attempt, AttemptStatus, Response
from exams.models import ItemKind
from grading.models import GradingAssignment, GradingPlan, Score, ScoreSource
from tests.factories import ItemFactory, SittingFactory, SubtestFactory, student

GUIDE = "E: ställer upp ett samband (1 p). C: löser problemet (1 p). A: tydlig slutsats (1 p)."


def graded_subtest(*, open_items: int = 2, closed_items: int = 1, criteria_item: bool = False):
    subtest = SubtestFactory()
    items = [
        ItemFactory(
            subtest=subtest,
            kind=ItemKind.EXTENDED_TEXT,
            max_points=3,
            content_html=f'<div class="stimulus"><p>Text {n}</p></div><p>Förklara {n}.</p>',
            choices=[],
            answer_key=[],
            scoring_criteria=GUIDE if (criteria_item and n == 0) else "Ge poäng för förklaringen.",
        )
        for n in range(open_items)
    ]
    items += [ItemFactory(subtest=subtest) for _ in range(closed_items)]
    return subtest, items


def submitted_attempts(*, unit, subtest, items, students=None, count: int = 2):
    """Submitted attempts of `count` students (or `students`) with a response and a score per
    item: machine scores for closed items, empty person scores for extended text."""
    sitting = SittingFactory(school_unit=unit, subtest=subtest)
    persons = students or [student(unit) for _ in range(count)]
    attempts = []
    for number, person in enumerate(persons):
        attempt = Attempt.objects.create(
            sitting=sitting, person=person, status=AttemptStatus.SUBMITTED,
            submitted_at=timezone.now(),
        )  # fmt: skip
        for item in items:
            machine = item.kind != ItemKind.EXTENDED_TEXT
            Response.objects.create(
                attempt=attempt, item=item,
                content=["B"] if machine else f"Svar {number} på {item.identifier}",
            )  # fmt: skip
            Score.objects.create(
                attempt=attempt, item=item,
                points=item.max_points if machine else None,
                source=ScoreSource.MACHINE if machine else ScoreSource.PERSON,
            )  # fmt: skip
        attempts.append(attempt)
    return attempts


def assign_all(*, unit, subtest, assessor_person, scores=None) -> GradingPlan:
    """Assign every person-graded score of the subtest at the unit to one assessor."""
    plan, _created = GradingPlan.objects.get_or_create(school_unit=unit, subtest=subtest)
    scores = (
        scores
        if scores is not None
        else Score.objects.filter(
            item__subtest=subtest, source=ScoreSource.PERSON, attempt__sitting__school_unit=unit
        )
    )
    for score in scores:
        GradingAssignment.objects.create(plan=plan, score=score, assessor=assessor_person)
    return plan


def seed_desk_objects(unit, *, user) -> dict:
    """One of each object the desk's API routes name, at `unit`, reachable by `user` (who must
    assess there): a score assigned to them, a machine score of the same attempt, a second
    marking they are to do, and an entry form they uploaded."""
    from grading.models import EntryImport, SecondMarking
    from tests.factories import staff_member

    subtest, items = graded_subtest(open_items=2, closed_items=1)
    attempt = submitted_attempts(unit=unit, subtest=subtest, items=items, count=1)[0]
    first, second = list(Score.objects.filter(attempt=attempt, source=ScoreSource.PERSON))
    other = staff_member(unit, duty_role="Lärare").person
    assign_all(unit=unit, subtest=subtest, assessor_person=user.person, scores=[first])
    assign_all(unit=unit, subtest=subtest, assessor_person=other, scores=[second])
    return {
        "score": first,
        "machine_score": Score.objects.get(attempt=attempt, source=ScoreSource.MACHINE),
        "second_marking": SecondMarking.objects.create(
            school_unit=unit, score=second, assessor=user.person
        ),
        "entry_import": EntryImport.objects.create(school_unit=unit, uploaded_by=user),
    }
