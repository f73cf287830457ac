"""The spreadsheet form of a transfer: a template to download, and rows turned into the same
SS 12000 document the API takes (so both go through one check-and-apply path).

Sheets (first row = column names, as in the template):
- school_units: id, name, school_unit_code, school_types
- groups: id, name, school_unit_code, group_type, teacher_person_ids
- students: person_id, given_name, family_name, civic_number, eppn, email, school_unit_code,
  school_type, school_year, group_ids
- staff: duty_id, person_id, given_name, family_name, civic_number, eppn, email,
  school_unit_code, duty_role
Lists inside a cell (school_types, teacher_person_ids, group_ids) are separated by commas.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from schools.models import Organiser, SchoolUnit
from schools.transfer.document import Rejection

SHEETS: dict[str, list[str]] = {
    "school_units": ["id", "name", "school_unit_code", "school_types"],
    "groups": ["id", "name", "school_unit_code", "group_type", "teacher_person_ids"],
    "students": [
        "person_id", "given_name", "family_name", "civic_number", "eppn", "email",
        "school_unit_code", "school_type", "school_year", "group_ids",
    ],
    "staff": [
        "duty_id", "person_id", "given_name", "family_name", "civic_number", "eppn", "email",
        "school_unit_code", "duty_role",
    ],
}  # fmt: skip
REQUIRED = {
    "school_units": ["id", "school_unit_code"],
    "groups": ["id", "name", "school_unit_code"],
    "students": ["person_id", "school_unit_code"],
    "staff": ["person_id", "school_unit_code", "duty_role"],
}
EXAMPLES = {
    "school_units": [["unit-1", "Ekskolan", "41000001", "GR"]],
    "groups": [["9A-2026", "9A", "41000001", "Undervisning", "staff-1"]],
    "students": [
        ["student-1", "Astrid", "Ek", "20110315-1237", "astrid.ek@skola.example",
         "astrid.ek@skola.example", "41000001", "GR", 9, "9A-2026"],
    ],
    "staff": [
        ["duty-1", "staff-1", "Sven", "Björk", "19800101-1231", "sven.bjork@skola.example",
         "sven.bjork@skola.example", "41000001", "Lärare"],
    ],
}  # fmt: skip


# Limits checked on the archive before any XML is parsed (as the QTI import does for packages):
# an organiser's whole register fits well inside them, a zip bomb does not.
MAX_UNPACKED_BYTES = 60 * 1024 * 1024
MAX_ENTRIES = 200
MAX_SHEETS = 8
MAX_ROWS = 100_000
MAX_RATIO = 200  # uncompressed / compressed, for entries above RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
# A row element opens as <row …>, <row>, <row/> or, with a namespace prefix, <x:row …>.
_ROW_OPENINGS = tuple(lead + b"row" + end for lead in (b"<", b":") for end in (b" ", b">", b"/"))
_CHUNK = 1024 * 1024


class XlsxRefused(ValueError):
    """A spreadsheet refused before parsing; `str()` says why, for the person who uploaded it."""


def _rows_in(data: bytes) -> int:
    return sum(data.count(opening) for opening in _ROW_OPENINGS)


def _count_rows(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> tuple[int, int]:
    """(rows, bytes read) of one sheet, reading what the entry really holds, never what its
    header claims, and never more than `budget` bytes."""
    rows, read, tail = 0, 0, b""
    with archive.open(info) as handle:
        while chunk := handle.read(_CHUNK):
            read += len(chunk)
            if read > budget:
                raise XlsxRefused(_unpacked_message())
            window = tail + chunk
            rows += _rows_in(window) - _rows_in(tail)
            tail = window[-16:]
            if rows > MAX_ROWS:
                raise XlsxRefused(
                    _("The spreadsheet has more than %(n)s rows.") % {"n": f"{MAX_ROWS:,}"}
                )
    return rows, read


def _unpacked_message() -> str:
    return _("The spreadsheet unpacks to more than %(mb)s MB.") % {
        "mb": MAX_UNPACKED_BYTES // 2**20
    }


def check_archive(data: bytes) -> None:
    """Refuse a spreadsheet that would exhaust the server, before any XML is parsed: too many
    entries or sheets, more unpacked bytes or rows than the limits, or compressed suspiciously
    well. Fast (one pass over the sheets at most) and bounded in memory whatever the file says
    about itself."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise XlsxRefused(_("Not a readable .xlsx file.")) from exc
    if len(infos) > MAX_ENTRIES:
        raise XlsxRefused(_("Not a readable .xlsx file."))
    sheets = [i for i in infos if re.fullmatch(r"xl/worksheets/[^/]+\.xml", i.filename)]
    if len(sheets) > MAX_SHEETS:
        raise XlsxRefused(_("The spreadsheet has more than %(n)s sheets.") % {"n": MAX_SHEETS})
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise XlsxRefused(_unpacked_message())
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise XlsxRefused(_("The spreadsheet is compressed suspiciously well (a zip bomb?)."))
    budget, rows = MAX_UNPACKED_BYTES, 0
    try:
        for info in sheets:
            counted, read = _count_rows(archive, info, budget)
            rows, budget = rows + counted, budget - read
            if rows > MAX_ROWS:
                raise XlsxRefused(
                    _("The spreadsheet has more than %(n)s rows.") % {"n": f"{MAX_ROWS:,}"}
                )
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        # A wrong checksum, a header that under-states its entry, an unknown compression.
        raise XlsxRefused(_("Not a readable .xlsx file.")) from exc


def build_template(*, with_examples: bool = True) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, columns in SHEETS.items():
        sheet = workbook.create_sheet(name)
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for index in range(len(columns)):
            sheet.column_dimensions[chr(65 + index)].width = 20
        if with_examples:
            for row in EXAMPLES[name]:
                sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class _Reader:
    def __init__(self, organiser: Organiser, scope_unit: SchoolUnit | None) -> None:
        self.rows: dict[str, str] = {}
        self.rejections: list[Rejection] = []
        self.unit_by_code = dict(
            SchoolUnit.objects.filter(organiser=organiser).values_list(
                "school_unit_code", "external_id"
            )
        )
        self.scope_unit = scope_unit

    def where(self, sheet: str, row: int) -> str:
        return _("%(sheet)s row %(row)s") % {"sheet": sheet, "row": row}

    def reject(self, sheet: str, row: int, column: str, message: str) -> None:
        self.rejections.append(Rejection("row", self.where(sheet, row), column, message))

    def remember(self, key: str, sheet: str, row: int) -> None:
        self.rows.setdefault(key, self.where(sheet, row))

    def unit(self, sheet: str, row: int, code: str) -> str | None:
        ext = self.unit_by_code.get(code)
        if ext is None:
            self.reject(
                sheet,
                row,
                "school_unit_code",
                _("Unknown school unit code %(code)s.") % {"code": code},
            )
        return ext


def _sheet_rows(workbook, name: str, reader: _Reader):
    if name not in workbook.sheetnames:
        return
    rows = workbook[name].iter_rows(values_only=True)
    header = [_text(h) for h in next(rows, ())]
    missing = [c for c in REQUIRED[name] if c not in header]
    if missing:
        reader.reject(name, 1, ", ".join(missing), _("Missing column."))
        return
    for number, values in enumerate(rows, start=2):
        record = {
            col: _text(values[i]) if i < len(values) else "" for i, col in enumerate(header) if col
        }
        if not any(record.values()):
            continue
        empty = [c for c in REQUIRED[name] if not record.get(c)]
        if empty:
            reader.reject(name, number, ", ".join(empty), _("Required value missing."))
            continue
        yield number, record


# Spreadsheet column -> key of the SS 12000 person record built from it.
PERSON_COLUMNS = {
    "given_name": "givenName",
    "family_name": "familyName",
    "eppn": "eduPersonPrincipalNames",
    "civic_number": "civicNo",
    "email": "emails",
}


def _person(record: dict[str, str]) -> dict:
    return {
        "id": record["person_id"],
        "givenName": record.get("given_name", ""),
        "familyName": record.get("family_name", ""),
        "eduPersonPrincipalNames": [record["eppn"]] if record.get("eppn") else [],
        "civicNo": {"value": record.get("civic_number", "")},
        "emails": [{"value": record["email"]}] if record.get("email") else [],
    }


def read_workbook(
    data: bytes, *, organiser: Organiser, scope_unit: SchoolUnit | None = None
) -> tuple[dict, dict[str, str], list[Rejection]]:
    """(document, record → "sheet row n", rejections found while reading the rows)."""
    unreadable = [Rejection("document", "", "", _("Not a readable .xlsx file."))]
    try:
        check_archive(data)
    except XlsxRefused as refusal:
        return {}, {}, [Rejection("document", "", "", str(refusal))]
    try:
        return _read(data, organiser=organiser, scope_unit=scope_unit)
    except Exception:  # openpyxl raises many kinds for a malformed workbook or sheet XML
        return {}, {}, unreadable


def _read(
    data: bytes, *, organiser: Organiser, scope_unit: SchoolUnit | None
) -> tuple[dict, dict[str, str], list[Rejection]]:
    reader = _Reader(organiser, scope_unit)
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    organisations, duties, groups, activities = [], [], {}, []
    persons: dict[str, dict] = {}
    # A sheet under another name would otherwise be skipped without a word.
    for name in workbook.sheetnames:
        if name not in SHEETS:
            reader.rejections.append(
                Rejection(
                    "document",
                    "",
                    name,
                    _("Unknown sheet; expected %(sheets)s (as in the template).")
                    % {"sheets": ", ".join(SHEETS)},
                )
            )
    person_rows: dict[str, str] = {}

    def add_person(sheet: str, number: int, rec: dict[str, str]) -> bool:
        """The first row of a person gives their details; a later row must not contradict it."""
        fresh = _person(rec)
        first = persons.get(rec["person_id"])
        if first is None:
            persons[rec["person_id"]] = fresh
            person_rows[rec["person_id"]] = reader.where(sheet, number)
            return True
        differing = [column for column, key in PERSON_COLUMNS.items() if first[key] != fresh[key]]
        if differing:
            reader.reject(
                sheet,
                number,
                ", ".join(differing),
                _("Differs from %(row)s for the same person_id.")
                % {"row": person_rows[rec["person_id"]]},
            )
            return False
        return True

    for number, rec in _sheet_rows(workbook, "school_units", reader):
        organisations.append(
            {
                "id": rec["id"],
                "displayName": rec.get("name") or rec["school_unit_code"],
                "organisationType": "Skolenhet",
                "schoolUnitCode": rec["school_unit_code"],
                "schoolTypes": _list(rec.get("school_types", "")),
            }
        )
        reader.unit_by_code[rec["school_unit_code"]] = rec["id"]
        reader.remember(f"organisation:{rec['id']}", "school_units", number)

    group_rows: dict[str, tuple[int, dict]] = {}
    for number, rec in _sheet_rows(workbook, "groups", reader):
        unit = reader.unit("groups", number, rec["school_unit_code"])
        if unit is None:
            continue
        groups[rec["id"]] = {
            "id": rec["id"],
            "displayName": rec["name"],
            "groupType": rec.get("group_type") or "Undervisning",
            "schoolType": "GR",
            "organisation": {"id": unit},
            "groupMemberships": [],
        }
        group_rows[rec["id"]] = (number, rec)
        reader.remember(f"group:{rec['id']}", "groups", number)

    for number, rec in _sheet_rows(workbook, "students", reader):
        unit = reader.unit("students", number, rec["school_unit_code"])
        if unit is None:
            continue
        if not add_person("students", number, rec):
            continue
        person = persons[rec["person_id"]]
        reader.remember(f"person:{rec['person_id']}", "students", number)
        year: Any = rec.get("school_year") or None
        if year is not None:
            try:
                year = int(year)
            except ValueError:
                reader.reject("students", number, "school_year", _("Must be a whole number."))
                continue
        school_type = rec.get("school_type") or "GR"
        person.setdefault("enrolments", []).append(
            {"enroledAt": {"id": unit}, "schoolType": school_type, "schoolYear": year}
        )
        for gid in _list(rec.get("group_ids", "")):
            if gid not in groups:
                reader.reject(
                    "students",
                    number,
                    "group_ids",
                    _("Group %(id)s is not in groups.") % {"id": gid},
                )
                continue
            groups[gid]["groupMemberships"].append({"person": {"id": rec["person_id"]}})

    duty_of: dict[tuple[str, str], str] = {}
    for number, rec in _sheet_rows(workbook, "staff", reader):
        unit = reader.unit("staff", number, rec["school_unit_code"])
        if unit is None:
            continue
        if not add_person("staff", number, rec):
            continue
        reader.remember(f"person:{rec['person_id']}", "staff", number)
        duty_id = rec.get("duty_id") or f"{rec['person_id']}@{rec['school_unit_code']}"
        duties.append(
            {
                "id": duty_id,
                "person": {"id": rec["person_id"]},
                "dutyAt": {"id": unit},
                "dutyRole": rec["duty_role"],
            }
        )
        duty_of[(rec["person_id"], unit)] = duty_id
        reader.remember(f"duty:{duty_id}", "staff", number)

    for gid, (number, rec) in group_rows.items():
        teacher_ids = _list(rec.get("teacher_person_ids", ""))
        if not teacher_ids:
            continue
        unit = groups[gid]["organisation"]["id"]
        teachers = []
        for pid in teacher_ids:
            duty_id = duty_of.get((pid, unit))
            if duty_id is None:
                reader.reject(
                    "groups",
                    number,
                    "teacher_person_ids",
                    _("%(id)s has no row in staff here.") % {"id": pid},
                )
                continue
            teachers.append({"duty": {"id": duty_id}})
        activities.append(
            {
                "id": f"xlsx:{gid}",
                "displayName": groups[gid]["displayName"],
                "activityType": "Undervisning",
                "groups": [{"id": gid}],
                "teachers": teachers,
                "organisation": {"id": unit},
                "parentActivity": {"id": f"xlsx:{gid}"},
            }
        )
        reader.remember(f"activity:xlsx:{gid}", "groups", number)

    document = {
        "organisations": organisations,
        "persons": list(persons.values()),
        "groups": list(groups.values()),
        "duties": duties,
        "activities": activities,
    }
    return document, reader.rows, reader.rejections
