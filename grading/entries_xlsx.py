"""The entry form as a spreadsheet: one row per student and subtest, with the student, the subtest
and its maximum filled in and protected; only the points column is open for typing.

An uploaded form is a zip from someone's computer: its size, the number and size of its parts
and their compression ratio are checked (as the QTI import does) before openpyxl reads it, and
no more than MAX_ROWS rows are read.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter

from grading.entries_services import EntriesRefused, SheetRow

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_PARTS = 200
MAX_PART_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, for parts above RATIO_FLOOR
RATIO_FLOOR = 256 * 1024
MAX_ROWS = 5000

SHEET = "points"
COLUMNS = ["student_id", "student", "subtest_id", "subtest", "max_points", "points"]
WIDTHS = [38, 30, 38, 40, 12, 10]


def build_form(*, rows: list[SheetRow], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    open_fill = PatternFill("solid", fgColor="FFF8E1")
    for row in rows:
        target = row.target
        sheet.append(
            [
                str(target.person.public_id),
                target.person.full_name,
                str(target.subtest.public_id),
                f"{target.subtest.test.title}: {target.subtest.title}",
                target.max_points,
                row.entry.points if row.entry is not None else None,
            ]
        )
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a name such as "=HYPERLINK(…)" stays text, never a formula
        points = sheet.cell(row=sheet.max_row, column=len(COLUMNS))
        points.protection = Protection(locked=False)
        points.fill = open_fill
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(65 + index)].width = width
    # Headers, students, subtests and maxima cannot be changed by mistake; points can.
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.freeze_panes = "A2"
    workbook.properties.title = title[:200]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def check_archive(data: bytes) -> None:
    """Refuse what is not a reasonable .xlsx before any XML of it is parsed."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise EntriesRefused(
            _("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20}
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise EntriesRefused(_("Not a readable .xlsx file.")) from exc
    infos = archive.infolist()
    if len(infos) > MAX_PARTS:
        raise EntriesRefused(_("Not a readable .xlsx file (too many parts)."))
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MAX_PART_BYTES or total > MAX_TOTAL_BYTES:
            raise EntriesRefused(_("The file unpacks to too much data."))
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise EntriesRefused(_("The file is compressed suspiciously well (zip bomb?)."))
    if "[Content_Types].xml" not in {info.filename for info in infos}:
        raise EntriesRefused(_("Not a readable .xlsx file."))


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return value


def _letter(index: int) -> str:
    return get_column_letter(index + 1)


def read_form(data: bytes) -> tuple[list[dict], dict[str, str]]:
    """(rows {"row", "student", "subtest", "points"}, column name → letter) of the form, with row
    numbers and letters as the spreadsheet shows them. Refuses the whole file when it is unsafe,
    unreadable or lacks the columns."""
    check_archive(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise EntriesRefused(_("Not a readable .xlsx file.")) from exc
    try:
        sheet = workbook[SHEET] if SHEET in workbook.sheetnames else workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(values, ())]
        missing = [c for c in ("student_id", "subtest_id", "points") if c not in header]
        if missing:
            raise EntriesRefused(
                _("Row 1: missing column %(columns)s (use the downloaded form).")
                % {"columns": ", ".join(missing)}
            )
        where = {name: header.index(name) for name in ("student_id", "subtest_id", "points")}
        rows: list[dict] = []
        for number, row in enumerate(values, start=2):
            if number > MAX_ROWS + 1:
                raise EntriesRefused(
                    _("The form has more than %(rows)s rows.") % {"rows": MAX_ROWS}
                )
            cells = {
                name: _cell(row[index]) if index < len(row) else None
                for name, index in where.items()
            }
            if all(v in (None, "") for v in cells.values()):
                continue
            rows.append(
                {
                    "row": number,
                    "student": cells["student_id"],
                    "subtest": cells["subtest_id"],
                    "points": cells["points"],
                }
            )
        return rows, {name: _letter(index) for name, index in where.items()}
    finally:
        workbook.close()
