"""Reads of results, always through a `ResultScope` (results.visibility)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum

from delivery.models import AttemptStatus, Response
from exams.models import Subtest, TestDefinition
from grading.models import Score
from provplattform.errors import NotFound
from results import computation as core
from results.models import Band, Measure, Presence, ResultSet, SubtestResult, TestResult
from results.visibility import ResultScope


def result_sets_of(*, scope: ResultScope) -> QuerySet:
    """The unit's tests with results; for a teacher only those their students have results of."""
    sets = ResultSet.objects.filter(school_unit=scope.school_unit)
    if not scope.whole_unit:
        sets = sets.filter(
            id__in=TestResult.objects.filter(person__in=scope.students()).values("result_set_id")
        )
    return sets.select_related("test").order_by("-test__window_start", "test__title")


def access_result_set(*, scope: ResultScope, public_id) -> ResultSet:
    try:
        return result_sets_of(scope=scope).get(public_id=public_id)
    except (ResultSet.DoesNotExist, ValueError, ValidationError) as exc:
        raise NotFound() from exc


@dataclass
class StudentRow:
    person_id: int
    public_id: str
    name: str
    points: int | None
    max_points: int
    complete: bool
    incomplete: str
    presence: str
    grade: str
    band: str
    needs_attention: bool
    version: int
    subtests: list[dict] = field(default_factory=list)
    measures: int = 0


@dataclass
class ResultTable:
    result_set: ResultSet
    test: TestDefinition
    subtests: list[Subtest]
    rows: list[StudentRow]

    @property
    def counted(self) -> list[StudentRow]:
        return [r for r in self.rows if r.complete and r.presence == Presence.SAT]

    def summary(self) -> dict:
        counted = self.counted
        return {
            "students": len(counted),
            "absent": sum(r.presence == Presence.ABSENT for r in self.rows),
            "exempt": sum(r.presence == Presence.EXEMPT for r in self.rows),
            "incomplete": sum(
                not r.complete and r.presence not in (Presence.ABSENT, Presence.EXEMPT)
                for r in self.rows
            ),
            "below": sum(
                any(c["band"] == Band.BELOW for c in r.subtests) or r.band == Band.BELOW
                for r in counted
            ),
            "just_above": sum(
                r.needs_attention
                and not (any(c["band"] == Band.BELOW for c in r.subtests) or r.band == Band.BELOW)
                for r in counted
            ),
        }

    def distribution(self) -> list[int]:
        return core.distribution(
            [r.points or 0 for r in self.counted],
            max_points=self.rows[0].max_points if self.rows else 0,
        )


def result_table(
    *, scope: ResultScope, result_set: ResultSet, group=None, person=None
) -> ResultTable:
    """One row per visible student (of `group` or just `person` when given), with each subtest's
    result; three queries however many students."""
    students = scope.students()
    if group is not None:
        students = students.filter(groups=group)
    if person is not None:
        students = students.filter(pk=person.pk)
    subtests = list(result_set.test.subtests.order_by("position"))
    tests = (
        TestResult.objects.filter(result_set=result_set, person__in=students)
        .select_related("person")
        .order_by("person__family_name", "person__given_name", "person_id")
    )
    parts: dict[int, dict[int, SubtestResult]] = defaultdict(dict)
    for found in SubtestResult.objects.filter(result_set=result_set, person__in=students):
        parts[found.person_id][found.subtest_id] = found
    measures = dict(
        Measure.objects.filter(
            school_unit=scope.school_unit,
            subtest__in=subtests,
            person__in=students,
        )
        .values("person_id")
        .annotate(n=Count("id"))
        .values_list("person_id", "n")
    )
    rows = []
    for result in tests:
        row = StudentRow(
            person_id=result.person_id,
            public_id=str(result.person.public_id),
            name=result.person.full_name,
            points=result.points,
            max_points=result.max_points,
            complete=result.complete,
            incomplete=result.incomplete,
            presence=result.presence,
            grade=result.grade,
            band=result.band,
            needs_attention=result.needs_attention,
            version=result.version,
            measures=measures.get(result.person_id, 0),
        )
        for subtest in subtests:
            part = parts[result.person_id].get(subtest.id)
            row.subtests.append(
                {
                    "subtest": subtest,
                    "points": part.points if part else None,
                    "max_points": part.max_points if part else 0,
                    "complete": bool(part and part.complete),
                    "incomplete": part.incomplete if part else "",
                    "presence": part.presence if part else Presence.NOT_SAT,
                    "band": part.band if part else "",
                }
            )
        rows.append(row)
    return ResultTable(result_set, result_set.test, subtests, rows)


def item_shares(*, table: ResultTable) -> list[dict]:
    """Per on-platform item, the share of points the counted students gained (one query)."""
    counted = [r.person_id for r in table.counted]
    rows = (
        Score.objects.filter(
            attempt__sitting__school_unit=table.result_set.school_unit,
            attempt__sitting__subtest__test=table.test,
            attempt__person_id__in=counted,
            attempt__status=AttemptStatus.SUBMITTED,
        )
        .values("item_id", "item__identifier", "item__max_points", "item__subtest__code")
        .annotate(gained=Sum("points"), students=Count("attempt__person_id", distinct=True))
        .order_by("item__subtest__position", "item__position")
    )
    return [
        {
            "subtest": r["item__subtest__code"],
            "item": r["item__identifier"],
            "gained": r["gained"] or 0,
            "available": r["item__max_points"] * r["students"],
            "share": (r["gained"] or 0) / (r["item__max_points"] * r["students"])
            if r["students"]
            else None,
        }
        for r in rows
    ]


def student_responses(*, scope: ResultScope, result_set: ResultSet, person) -> list[dict]:
    """The student's responses with the scores and comments given (the student monitor)."""
    scores = (
        Score.objects.filter(
            attempt__sitting__school_unit=scope.school_unit,
            attempt__sitting__subtest__test=result_set.test,
            attempt__person=person,
        )
        .select_related("item", "item__subtest", "attempt")
        .order_by("item__subtest__position", "item__position")
    )
    responses = {
        (r["attempt_id"], r["item_id"]): r["content"]
        for r in Response.objects.filter(attempt__in={s.attempt_id for s in scores}).values(
            "attempt_id", "item_id", "content"
        )
    }
    return [
        {
            "subtest": s.item.subtest.title,
            "item": s.item.identifier,
            "content_html": s.item.content_html,
            "response": responses.get((s.attempt_id, s.item_id)),
            "points": s.points,
            "max_points": s.item.max_points,
            "comment": s.comment,
        }
        for s in scores
    ]


def follow_up_counts(*, school_unit, test: TestDefinition, subtest=None) -> dict:
    """Counts only — never scores, names or a ranking: students below, just above, and students
    below or just above with at least one recorded measure."""
    results = SubtestResult.objects.filter(
        result_set__school_unit=school_unit, result_set__test=test, complete=True
    )
    if subtest is not None:
        results = results.filter(subtest=subtest)
    below = set(results.filter(band=Band.BELOW).values_list("person_id", flat=True))
    just_above = (
        set(results.filter(band=Band.JUST_ABOVE).values_list("person_id", flat=True)) - below
    )
    concerned = below | just_above
    measures = Measure.objects.filter(school_unit=school_unit, person_id__in=concerned)
    measures = measures.filter(subtest=subtest) if subtest else measures.filter(subtest__test=test)
    with_measures = set(measures.values_list("person_id", flat=True))
    return {"below": len(below), "just_above": len(just_above), "with_measures": len(with_measures)}


def follow_up_counts_of(*, school_unit, requests) -> dict[int, dict]:
    """`follow_up_counts` of each follow-up request (by its id), in two queries whatever the
    number of requests, so that a list of them costs no query per row."""
    if not requests:
        return {}
    tests = {r.test_id for r in requests}
    subtests = {r.subtest_id for r in requests if r.subtest_id is not None}
    results = list(
        SubtestResult.objects.filter(
            result_set__school_unit=school_unit,
            result_set__test_id__in=tests,
            complete=True,
            band__in=(Band.BELOW, Band.JUST_ABOVE),
        ).values_list("result_set__test_id", "subtest_id", "person_id", "band")
    )
    measures = list(
        Measure.objects.filter(school_unit=school_unit)
        .filter(Q(subtest__test_id__in=tests) | Q(subtest_id__in=subtests))
        .values_list("subtest__test_id", "subtest_id", "person_id")
    )
    counts = {}
    for request in requests:
        rows = [
            (person, band)
            for test, subtest, person, band in results
            if test == request.test_id and request.subtest_id in (None, subtest)
        ]
        below = {person for person, band in rows if band == Band.BELOW}
        just_above = {person for person, band in rows if band == Band.JUST_ABOVE} - below
        concerned = below | just_above
        with_measures = {
            person
            for test, subtest, person in measures
            if person in concerned
            and (subtest == request.subtest_id if request.subtest_id else test == request.test_id)
        }
        counts[request.id] = {
            "below": len(below),
            "just_above": len(just_above),
            "with_measures": len(with_measures),
        }
    return counts
