"""Writes of results: computing them from scores and entries, and recomputing after corrections.

`results_compute` is the only writer of SubtestResult and TestResult. It reads the scores in one
GROUP BY per test, hands the sums to the pure core (`results.computation`) and writes back only the
rows that changed, under a new results version. A correction (a score, a late oral entry, a key
correction rescoring) reaches it through `grading.hooks.on_scores_changed`, after commit, as a
mark on the students (results.dirty) and one queued recomputation per burst of changes.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from delivery.models import Attempt, AttemptStatus
from exams.models import Assignment, Exemption, Subtest, TestDefinition
from grading.models import SubtestEntry
from provplattform.audit import AuditAction, audit_record
from provplattform.jobs import enqueue_on_commit
from provplattform.logs import warn_every
from results import computation as core
from results import dirty, writer
from results.models import ResultSet, SubtestResult, TestResult
from schools.models import SchoolUnit, User

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


# What `results_compute` annotates on each subtest; `rule_for_test` needs only the points.
class _MaxPoints(TypedDict):
    item_max: Any  # None for a subtest without items


class _Sums(_MaxPoints):
    item_count: int


SubtestWithMax: TypeAlias = "WithAnnotations[Subtest, _MaxPoints]"
SubtestWithSums: TypeAlias = "WithAnnotations[Subtest, _Sums]"

_PRESENCE = {
    AttemptStatus.SUBMITTED: core.Presence.SAT,
    AttemptStatus.EXEMPT: core.Presence.EXEMPT,
    AttemptStatus.ABSENT: core.Presence.ABSENT,
}

log = logging.getLogger(__name__)


def just_above_band() -> int:
    return int(getattr(settings, "RESULTS_JUST_ABOVE_POINTS", 2))


def rule_for_test(
    test: TestDefinition, subtests: Sequence[SubtestWithMax] | None = None
) -> core.TestRule:
    """The test definition as the core's rule: max points per subtest from its items (or, for a
    part outside the platform, its own max_points)."""
    if subtests is None:
        subtests = list(
            test.subtests.order_by("position").annotate(item_max=Sum("items__max_points"))
        )
    return core.TestRule(
        subtests=tuple(
            core.SubtestRule(
                code=s.code,
                max_points=(s.item_max or 0) if s.on_platform else (s.max_points or 0),
                on_platform=s.on_platform,
                concern_threshold=s.concern_threshold,
            )
            for s in subtests
        ),
        grade_boundaries=dict(test.grade_boundaries or {}),
        grade_requirements=dict(getattr(test, "grade_requirements", None) or {}),
        concern_threshold=test.concern_threshold,
        band=just_above_band(),
    )


def _rows(queryset) -> list[tuple]:
    """A values_list queryset's rows straight from the cursor: no per-value converters, which
    cost more than the query itself at a unit of 100,000 students."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


_NOT_SAT = core.Presence.NOT_SAT
_NOTHING = (_NOT_SAT, 0, 0, False, None)
# Best first, when a student has attempts at several sittings of one subtest.
_RANK = {core.Presence.SAT: 0, core.Presence.EXEMPT: 1, core.Presence.ABSENT: 2, _NOT_SAT: 9}


def _inputs(
    *,
    school_unit: SchoolUnit,
    test: TestDefinition,
    subtests: Sequence[SubtestWithSums],
    person_ids,
) -> tuple[set[int], dict[int, dict[str, tuple]]]:
    """Every student with something to show, and their raw material per subtest code as the
    fields of a `core.SubtestInput` (plain tuples: a unit of 100,000 students has 300,000)."""
    code_of = {s.id: s.code for s in subtests}
    items_of = {s.id: s.item_count for s in subtests}

    def only(qs, field="person_id"):
        return qs.filter(**{f"{field}__in": person_ids}) if person_ids is not None else qs

    students: set[int] = set(
        only(Assignment.objects.filter(school_unit=school_unit, subtest__test=test))
        .values_list("person_id", flat=True)
        .distinct()
    )
    # One GROUP BY: every attempt of the unit at this test with the sums of its scores.
    attempts = (
        only(Attempt.objects.filter(sitting__school_unit=school_unit, sitting__subtest__test=test))
        .values_list("person_id", "sitting__subtest_id", "status")
        .annotate(
            gained=Sum("scores__points"),
            unassessed=Count("scores__id", filter=Q(scores__points__isnull=True)),
            scored=Count("scores__id"),
        )
        .order_by()
    )
    inputs: dict[int, dict[str, tuple]] = defaultdict(dict)
    for person_id, subtest_id, status, points, unassessed, scored in _rows(attempts):
        code = code_of[subtest_id]
        mine = inputs[person_id]
        held = mine.get(code)
        # A catch-up sitting the student submitted wins over the absence at the first one.
        if held is not None and _RANK[held[0]] <= _RANK[_PRESENCE.get(status, _NOT_SAT)]:
            continue
        missing = items_of[subtest_id] - scored  # a missing score row: not yet assessed
        mine[code] = (
            _PRESENCE.get(status, _NOT_SAT),
            points or 0,
            unassessed + missing if missing > 0 else unassessed,
            scored > 0,
            None,
        )
    students.update(inputs)
    entries = only(
        SubtestEntry.objects.filter(school_unit=school_unit, subtest__test=test)
    ).values_list("person_id", "subtest_id", "points")
    for person_id, subtest_id, points in entries:
        students.add(person_id)
        code = code_of[subtest_id]
        _presence, held_points, unassessed, scored, _entered = inputs[person_id].get(code, _NOTHING)
        inputs[person_id][code] = (core.Presence.SAT, held_points, unassessed, scored, points)
    exemptions = only(Exemption.objects.filter(school_unit=school_unit, test=test)).values_list(
        "person_id", "subtest_id"
    )
    for person_id, subtest_id in exemptions:
        students.add(person_id)
        for code in [code_of[subtest_id]] if subtest_id else list(code_of.values()):
            inputs[person_id][code] = (core.Presence.EXEMPT, 0, 0, False, None)
    return students, inputs


def results_compute(
    *,
    school_unit: SchoolUnit,
    test: TestDefinition,
    person_ids: Iterable[int] | None = None,
    actor: User | None = None,
    reason: str = "",
) -> ResultSet:
    """Compute the results of `test` at `school_unit` (for `person_ids`, or everyone) and store
    the rows that changed under a new results version. Idempotent: nothing changed, no new
    version. One transaction; one audit row."""
    person_ids = sorted(set(person_ids)) if person_ids is not None else None
    subtests = list(
        test.subtests.order_by("position").annotate(
            item_max=Sum("items__max_points"), item_count=Count("items")
        )
    )
    rule = rule_for_test(test, subtests)
    with transaction.atomic():
        result_set, _created = ResultSet.objects.get_or_create(school_unit=school_unit, test=test)
        result_set = ResultSet.objects.select_for_update().get(pk=result_set.pk)
        students, inputs = _inputs(
            school_unit=school_unit, test=test, subtests=subtests, person_ids=person_ids
        )
        only = {"person_id__in": person_ids} if person_ids is not None else {}
        held_tests = {
            r[0]: r[1:]
            for r in _rows(
                TestResult.objects.filter(result_set=result_set, **only).values_list(
                    "person_id", *writer.TEST_COMPARED
                )
            )
        }
        held_parts = {
            (r[0], r[1]): r[2:]
            for r in _rows(
                SubtestResult.objects.filter(result_set=result_set, **only).values_list(
                    "person_id", "subtest_id", *writer.PART_COMPARED
                )
            )
        }
        version = result_set.version + 1
        out = writer.Writer(
            result_set_id=result_set.pk, held_tests=held_tests, held_parts=held_parts
        )
        # The core is pure, so students with the same raw material share one outcome: a unit
        # of 100,000 students has a few thousand distinct ones.
        codes = [s.code for s in subtests]
        subtest_ids = [s.id for s in subtests]
        shapes: dict[tuple, writer.Shape] = {}
        for person_id in sorted(students):
            raw = inputs.pop(person_id, {})
            key = tuple(raw.get(code) for code in codes)
            shape = shapes.get(key)
            if shape is None:
                given = {code: core.SubtestInput(*fields) for code, fields in raw.items()}
                shape = shapes[key] = writer.shape_of(
                    core.test_outcome(rule, given), subtest_ids=subtest_ids, version=version
                )
            out.add(person_id, shape)
        out.flush()
        if out.changed_students:
            result_set.version = version
        result_set.computed_at = timezone.now()
        result_set.save(update_fields=["version", "computed_at"])
        audit_record(
            actor=actor,
            action=AuditAction.RESULTS_COMPUTED,
            target=result_set,
            scope=school_unit,
            after={
                "version": result_set.version,
                "students": len(students),
                "changed_students": out.changed_students,
            },
            reason=reason,
        )
    return result_set


def on_scores_changed(*, school_unit_id: int, subtest_ids, person_ids) -> None:
    """grading.hooks subscriber, after a score write committed: mark the students' results out
    of date (results.dirty queues one recomputation per burst of changes); without Redis, queue
    the recomputation of each affected test directly. Never computes here while a queue is up."""
    if dirty.mark(school_unit_id=school_unit_id, subtest_ids=subtest_ids, person_ids=person_ids):
        return
    from results.tasks import recompute  # noqa: PLC0415 - tasks import this module: a cycle

    test_ids = sorted(
        set(Subtest.objects.filter(id__in=subtest_ids).values_list("test_id", flat=True))
    )
    persons = list(person_ids)
    for test_id in test_ids:
        job = {"school_unit_id": school_unit_id, "test_id": test_id, "person_ids": persons}
        enqueue_on_commit(
            recompute, **job, fallback=functools.partial(_recompute_in_place, recompute, **job)
        )


def _recompute_in_place(task, **kwargs) -> None:
    """While the broker (Redis) is away, compute the few affected students here instead. A
    student's submit or an assessor's save must never fail because results could not be queued."""
    try:
        task(**kwargs)
    except Exception:
        warn_every(log, "results-inline", "results recomputation failed; the next change redoes it")
