"""Writing computed results fast: a unit of 100,000 students stores 400,000 rows at once.

Students with the same raw material share one outcome (the core is pure), so each distinct
outcome is turned into its stored fields once (`Shape`), already formatted as the text of a
PostgreSQL COPY line; a student's rows are then the shape's lines behind its ids. On PostgreSQL
the lines go in by COPY — straight into the tables when none of the rows exists yet (a first
computation under the locked result set), else through a temporary table and one
INSERT … ON CONFLICT. Other databases (SQLite in the embedded default and the tests) get
Django's bulk upsert from the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from provplattform.bulk import bulk_insert
from results import computation as core
from results.models import SubtestResult, TestResult

_COMMON = ["points", "max_points", "complete", "incomplete", "band", "presence", "version"]
TEST_COLUMNS = ["result_set_id", "person_id", *_COMMON, "grade", "needs_attention"]
PART_COLUMNS = ["result_set_id", "person_id", "subtest_id", *_COMMON]
TEST_COMPARED = ("points", "complete", "incomplete", "band", "presence", "grade", "needs_attention")
PART_COMPARED = ("points", "complete", "incomplete", "band", "presence")


def _copy_text(value) -> str:
    """One field of a COPY text line (our values are numbers, booleans and enum codes)."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


@dataclass(frozen=True)
class Shape:
    """What one distinct outcome stores: the compared fields, and the rest of each row after
    (result set, person) as tuples and as COPY text."""

    test_compared: tuple
    part_compared: tuple[tuple, ...]
    test_tail: tuple
    part_tails: tuple[tuple, ...]
    test_text: str
    part_texts: tuple[str, ...]


def shape_of(outcome: core.TestOutcome, *, subtest_ids: list[int], version: int) -> Shape:
    def text(fields) -> str:
        return "\t".join(_copy_text(v) for v in fields) + "\n"

    test_compared = (
        outcome.points,
        outcome.complete,
        str(outcome.incomplete or ""),
        str(outcome.band or ""),
        str(outcome.presence),
        outcome.grade or "",
        outcome.needs_attention,
    )
    points, complete, incomplete, band, presence, grade, attention = test_compared
    test_tail: tuple = (points, outcome.max_points, complete, incomplete, band, presence, version)
    test_tail += (grade, attention)
    part_compared, part_tails = [], []
    for subtest_id, part in zip(subtest_ids, outcome.subtests, strict=True):
        compared = (
            part.points,
            part.complete,
            str(part.incomplete or ""),
            str(part.band or ""),
            str(part.presence),
        )
        part_compared.append(compared)
        part_tails.append((subtest_id, compared[0], part.max_points, *compared[1:], version))
    return Shape(
        test_compared,
        tuple(part_compared),
        test_tail,
        tuple(part_tails),
        text(test_tail),
        tuple(text(t) for t in part_tails),
    )


def _copy(cursor, table: str, columns: list[str], lines: list[str]) -> None:
    with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for start in range(0, len(lines), 5000):
            copy.write("".join(lines[start : start + 5000]))


def _write(model, columns: list[str], conflict: list[str], *, rows, lines, fresh: bool) -> None:
    if not rows and not lines:
        return
    if lines is None:
        update = [c.removesuffix("_id") for c in columns if c not in conflict]
        bulk_insert(
            model,
            [model(**dict(zip(columns, row, strict=True))) for row in rows],
            unique_fields=[c.removesuffix("_id") for c in conflict],
            update_fields=update,
        )
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if fresh:
            _copy(cursor, table, columns, lines)
            return
        names = ", ".join(columns)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in conflict)
        # Only this module's own table and column names are formatted in; values go by COPY.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS tmp_{table} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE tmp_{table}")
        _copy(cursor, f"tmp_{table}", columns, lines)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM tmp_{table} "  # noqa: S608
            f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}"
        )


class Writer:
    """Collects the changed rows of one computation and writes them in batches."""

    BATCH = 50000

    def __init__(self, *, result_set_id: int, held_tests: dict, held_parts: dict):
        self.result_set_id = result_set_id
        self.held_tests, self.held_parts = held_tests, held_parts
        # Nothing stored yet for these students: no comparison, no conflict.
        self.fresh = not held_tests and not held_parts
        self.as_text = connection.vendor == "postgresql"
        self.tests: list = []
        self.parts: list = []
        self.changed_students = 0

    def add(self, person_id: int, shape: Shape) -> None:
        test_row: str | tuple
        part_rows: list[str] | list[tuple]
        if self.as_text:
            text = f"{self.result_set_id}\t{person_id}\t"
            test_row, part_rows = text + shape.test_text, [text + t for t in shape.part_texts]
        else:
            ids = (self.result_set_id, person_id)
            test_row, part_rows = ids + shape.test_tail, [ids + t for t in shape.part_tails]
        if self.fresh:
            self.tests.append(test_row)
            self.parts.extend(part_rows)
            self.changed_students += 1
        else:
            changed = self.held_tests.get(person_id) != shape.test_compared
            if changed:
                self.tests.append(test_row)
            for row, tail, compared in zip(
                part_rows, shape.part_tails, shape.part_compared, strict=True
            ):
                if self.held_parts.get((person_id, tail[0])) != compared:
                    changed = True
                    self.parts.append(row)
            self.changed_students += changed
        if len(self.parts) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        for model, columns, conflict, rows in (
            (TestResult, TEST_COLUMNS, ["result_set_id", "person_id"], self.tests),
            (SubtestResult, PART_COLUMNS, ["result_set_id", "person_id", "subtest_id"], self.parts),
        ):
            _write(
                model,
                columns,
                conflict,
                rows=None if self.as_text else rows,
                lines=rows if self.as_text else None,
                fresh=self.fresh,
            )
        self.tests, self.parts = [], []
