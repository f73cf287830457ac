"""Result exports: CSV streamed row by row, XLSX through openpyxl's write-only mode.

Every export starts with a header naming the test, the results version and the time, and every
text cell is neutralised so a spreadsheet never runs it as a formula (names transferred from other
systems can start with "=" today). Exports are audited: who, what, how many students.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from provplattform.audit import AuditAction, audit_record
from results.models import Incomplete
from results.selectors import ResultTable

if TYPE_CHECKING:
    from schools.models import User

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe; numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def header_rows(table: ResultTable, *, what: str) -> list[list]:
    result_set = table.result_set
    return [
        [_("Test"), table.test.title],
        [_("Results version"), result_set.version],
        [_("Made at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")],
        [_("Export"), what],
        [],
        [
            _("Student"),
            _("Points"),
            _("Max"),
            _("Grade"),
            _("Status"),
            *[f"{s.code} {s.title}" for s in table.subtests],
        ],
    ]


def _status(row) -> str:
    if row.complete:
        return {"below": _("Below"), "just_above": _("Just above"), "above": _("Above")}.get(
            row.band, _("Complete")
        )
    return str(dict(_incomplete_labels()).get(row.incomplete, row.incomplete))


def _incomplete_labels():
    return Incomplete.choices


def _part(cell) -> object:
    if cell["complete"]:
        return cell["points"]
    return str(dict(_incomplete_labels()).get(cell["incomplete"], ""))


def data_rows(table: ResultTable) -> Iterator[list]:
    for row in table.rows:
        yield [
            row.name,
            row.points if row.points is not None else "",
            row.max_points,
            row.grade,
            _status(row),
            *[_part(c) for c in row.subtests],
        ]


def all_rows(table: ResultTable, *, what: str) -> Iterator[list]:
    yield from header_rows(table, what=what)
    yield from data_rows(table)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([neutralise(v) for v in row])


def xlsx_bytes(rows: Iterable[list]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Results"))
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_audit(*, actor: User, table: ResultTable, kind: str, what: str) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.RESULTS_EXPORTED,
        target=table.result_set,
        scope=table.result_set.school_unit,
        after={
            "format": kind,
            "what": what,
            "students": len(table.rows),
            "version": table.result_set.version,
        },
    )
