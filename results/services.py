"""Writes of results: computing them from scores and entries, and recomputing after corrections.

`results_compute` is the only writer of SubtestResult and TestResult. It reads the scores in one
GROUP BY per test, hands the sums to the pure core (`results.computation`) and writes back only the
rows that changed, under a new results version. A correction (a score, a late oral entry, a key
correction rescoring) reaches it through `grading.hooks.on_scores_changed`, after commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from delivery.models import Attempt, AttemptStatus
from exams.models import Assignment, Exemption, Subtest, TestDefinition
from grading.models import SubtestEntry
from provplattform.audit import audit_record
from provplattform.bulk import bulk_insert
from results import computation as core
from results.models import ResultSet, SubtestResult, TestResult
from schools.models import SchoolUnit

# Best first: a catch-up sitting the student submitted wins over the absence at the first one.
_STATUS_RANK = {
    AttemptStatus.SUBMITTED: 0,
    AttemptStatus.EXEMPT: 1,
    AttemptStatus.ABSENT: 2,
}
_PRESENCE = {
    AttemptStatus.SUBMITTED: core.Presence.SAT,
    AttemptStatus.EXEMPT: core.Presence.EXEMPT,
    AttemptStatus.ABSENT: core.Presence.ABSENT,
}


def just_above_band() -> int:
    return int(getattr(settings, "RESULTS_JUST_ABOVE_POINTS", 2))


def rule_for_test(test: TestDefinition, subtests: list[Subtest] | None = None) -> core.TestRule:
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


_NOTHING = (core.Presence.NOT_SAT, 0, 0, False, None)


def _inputs(
    *, school_unit: SchoolUnit, test: TestDefinition, subtests: list[Subtest], person_ids
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
    ranks: dict[tuple[int, int], int] = {}
    for person_id, subtest_id, status, points, unassessed, scored in _rows(attempts):
        # A catch-up sitting the student submitted wins over the absence at the first one.
        rank = _STATUS_RANK.get(status, 9)
        key = (person_id, subtest_id)
        if ranks.get(key, 10) <= rank:
            continue
        ranks[key] = rank
        # A missing score row counts as an item not yet assessed.
        unassessed += max(0, items_of[subtest_id] - scored)
        inputs[person_id][code_of[subtest_id]] = (
            _PRESENCE.get(status, core.Presence.NOT_SAT),
            points or 0,
            unassessed,
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


def _band(value) -> str:
    return str(value) if value else ""


_COMMON = ["points", "max_points", "complete", "incomplete", "band", "presence", "version"]
_TEST_COLUMNS = ["result_set_id", "person_id", *_COMMON, "grade", "needs_attention"]
_PART_COLUMNS = ["result_set_id", "person_id", "subtest_id", *_COMMON]


def _upsert(
    model, columns: list[str], rows: list[tuple], conflict: list[str], *, fresh: bool = False
) -> None:
    """Insert or update `rows` (tuples in `columns` order). On PostgreSQL through COPY into a
    temporary table and one INSERT … ON CONFLICT: a unit of 100,000 students writes 400,000
    rows, which Django model instances would make the slowest part of the computation."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        update = [c.removesuffix("_id") for c in columns if c not in conflict]
        bulk_insert(
            model,
            [model(**dict(zip(columns, row, strict=True))) for row in rows],
            unique_fields=[c.removesuffix("_id") for c in conflict],
            update_fields=update,
        )
        return
    table = model._meta.db_table
    names = ", ".join(columns)
    if fresh:
        # None of these rows exists yet (the result set is locked): straight in.
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in conflict)
    with connection.cursor() as cursor:
        # Only this module's own table and column names are formatted in; values go by COPY.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS tmp_{table} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE tmp_{table}")
        with cursor.cursor.copy(f"COPY tmp_{table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM tmp_{table} "  # noqa: S608
            f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}"
        )


class _Writer:
    """Collects the changed rows as tuples and writes them in batches: memory stays flat."""

    BATCH = 20000

    def __init__(self, *, result_set: ResultSet, version: int, fresh: bool):
        self.result_set_id, self.version, self.fresh = result_set.pk, version, fresh
        self.tests: list[tuple] = []
        self.parts: list[tuple] = []
        self.changed_students = 0

    @staticmethod
    def rows_of(outcome: core.TestOutcome) -> tuple[tuple, list[tuple]]:
        """The stored fields of a test outcome and of each of its subtests (computed once per
        distinct outcome)."""
        test_row = (
            outcome.points,
            outcome.complete,
            str(outcome.incomplete or ""),
            _band(outcome.band),
            str(outcome.presence),
            outcome.grade or "",
            outcome.needs_attention,
            outcome.max_points,
        )
        parts = [
            (
                part.points,
                part.complete,
                str(part.incomplete or ""),
                _band(part.band),
                str(part.presence),
                part.max_points,
            )
            for part in outcome.subtests
        ]
        return test_row, parts

    def add(self, person_id, rows, subtest_ids, held_tests, held_subtests) -> None:
        test_row, parts = rows
        changed = held_tests.get(person_id) != test_row[:7]
        if changed:
            points, complete, incomplete, band, presence, grade, attention, max_points = test_row
            self.tests.append(
                (
                    self.result_set_id,
                    person_id,
                    points,
                    max_points,
                    complete,
                    incomplete,
                    band,
                    presence,
                    self.version,
                    grade,
                    attention,
                )
            )
        for subtest_id, part in zip(subtest_ids, parts, strict=True):
            if held_subtests.get((person_id, subtest_id)) != part[:5]:
                changed = True
                points, complete, incomplete, band, presence, max_points = part
                self.parts.append(
                    (
                        self.result_set_id,
                        person_id,
                        subtest_id,
                        points,
                        max_points,
                        complete,
                        incomplete,
                        band,
                        presence,
                        self.version,
                    )
                )
        self.changed_students += changed
        if len(self.parts) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        _upsert(
            TestResult,
            _TEST_COLUMNS,
            self.tests,
            ["result_set_id", "person_id"],
            fresh=self.fresh,
        )
        _upsert(
            SubtestResult,
            _PART_COLUMNS,
            self.parts,
            ["result_set_id", "person_id", "subtest_id"],
            fresh=self.fresh,
        )
        self.tests, self.parts = [], []


def results_compute(
    *,
    school_unit: SchoolUnit,
    test: TestDefinition,
    person_ids: Iterable[int] | None = None,
    actor=None,
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
        held_tests = {
            r[0]: r[1:]
            for r in _rows(
                TestResult.objects.filter(result_set=result_set)
                .filter(**({"person_id__in": person_ids} if person_ids is not None else {}))
                .values_list(
                    "person_id",
                    "points",
                    "complete",
                    "incomplete",
                    "band",
                    "presence",
                    "grade",
                    "needs_attention",
                )
            )
        }
        held_subtests = {
            (r[0], r[1]): r[2:]
            for r in _rows(
                SubtestResult.objects.filter(result_set=result_set)
                .filter(**({"person_id__in": person_ids} if person_ids is not None else {}))
                .values_list(
                    "person_id",
                    "subtest_id",
                    "points",
                    "complete",
                    "incomplete",
                    "band",
                    "presence",
                )
            )
        }
        version = result_set.version + 1
        writer = _Writer(
            result_set=result_set, version=version, fresh=not held_tests and not held_subtests
        )
        # The core is pure, so students with the same raw material share one outcome: a unit
        # of 100,000 students has a few thousand distinct ones.
        codes = [s.code for s in subtests]
        subtest_ids = [s.id for s in subtests]
        outcomes: dict[tuple, tuple] = {}
        for person_id in sorted(students):
            raw = inputs.pop(person_id, {})
            key = tuple(raw.get(code) for code in codes)
            rows = outcomes.get(key)
            if rows is None:
                given = {code: core.SubtestInput(*fields) for code, fields in raw.items()}
                rows = outcomes[key] = writer.rows_of(core.test_outcome(rule, given))
            writer.add(person_id, rows, subtest_ids, held_tests, held_subtests)
        writer.flush()
        if writer.changed_students:
            result_set.version = version
        result_set.computed_at = timezone.now()
        result_set.save(update_fields=["version", "computed_at"])
        audit_record(
            actor=actor,
            action="results.computed",
            target=result_set,
            scope=school_unit,
            after={
                "version": result_set.version,
                "students": len(students),
                "changed_students": writer.changed_students,
            },
            reason=reason,
        )
    return result_set


def on_scores_changed(*, school_unit_id: int, subtest_ids, person_ids) -> None:
    """grading.hooks subscriber: recompute the affected students after the score write commits."""
    from results.tasks import recompute

    test_ids = sorted(
        set(Subtest.objects.filter(id__in=subtest_ids).values_list("test_id", flat=True))
    )
    persons = list(person_ids)
    for test_id in test_ids:
        transaction.on_commit(
            lambda t=test_id: recompute.delay(
                school_unit_id=school_unit_id, test_id=t, person_ids=persons
            )
        )
