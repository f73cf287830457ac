"""Reading a transfer document: JSON shape, SS 12000 schemas, duplicates and civic numbers.

This stage needs no database. It turns the document into plain records keyed by external id and
collects every rejection; references and conflicts with stored data are checked in `apply`.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from schools.civic_numbers import normalise_civic_number
from schools.transfer.schema import record_errors

KINDS = ("organisations", "persons", "groups", "duties", "activities")
# Record type names used in reports (singular, as SS 12000 names them).
TYPE_OF = {
    "organisations": "organisation",
    "persons": "person",
    "groups": "group",
    "duties": "duty",
    "activities": "activity",
}
DELETABLE = ("organisations", "persons", "groups", "duties", "activities")
PROTECTED_MARKINGS = {"Sekretessmarkering", "Skyddad folkbokföring"}
SCHOOL_UNIT_TYPE = "Skolenhet"


@dataclass
class Rejection:
    type: str
    id: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "id": self.id, "field": self.field, "message": self.message}


@dataclass
class Document:
    """The records of one run, keyed by external id, in the order they came."""

    units: dict[str, dict] = field(default_factory=dict)
    persons: dict[str, dict] = field(default_factory=dict)
    groups: dict[str, dict] = field(default_factory=dict)
    duties: dict[str, dict] = field(default_factory=dict)
    activities: dict[str, dict] = field(default_factory=dict)
    deleted: dict[str, list[str]] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    record_count: int = 0

    def reject(self, kind: str, record_id: Any, field_name: str, message: str) -> None:
        self.rejected.append(
            Rejection(TYPE_OF.get(kind, kind), _as_id(record_id), field_name, message)
        )


def _as_id(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else json.dumps(value))


def _date(value: Any) -> datetime.date | None:
    if value in (None, ""):
        return None
    return datetime.date.fromisoformat(str(value)[:10])


def _ref(value: Any) -> str:
    return value["id"]


def count_records(data: Any) -> int:
    if not isinstance(data, dict):
        return 0
    total = sum(len(data.get(k) or []) for k in KINDS if isinstance(data.get(k), list))
    deleted = data.get("deletedEntities")
    if isinstance(deleted, dict):
        total += sum(len(v) for v in deleted.values() if isinstance(v, list))
    return total


def decode(text: str | bytes) -> tuple[Any, Rejection | None]:
    """JSON text to data, or a rejection naming where the JSON is broken."""
    try:
        return json.loads(text), None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = (
            _(" (line %(line)s, column %(column)s)") % {"line": exc.lineno, "column": exc.colno}
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        return None, Rejection(
            "document",
            "",
            "",
            _("Malformed JSON%(where)s: %(error)s") % {"where": where, "error": exc.args[0]},
        )


def parse(data: Any, *, progress: Callable[[int], None] | None = None) -> Document:
    """Check the document's shape and every record; collect what is wrong."""
    doc = Document()
    if not isinstance(data, dict):
        doc.reject("document", "", "", _("The document must be a JSON object."))
        return doc
    for key in sorted(set(data) - {*KINDS, "deletedEntities"}):
        doc.reject(
            "document", "", key, _("Unknown key; expected %(keys)s.") % {"keys": ", ".join(KINDS)}
        )
    doc.record_count = count_records(data)
    done = 0
    for kind in KINDS:
        records = data.get(kind, [])
        if records is None:
            records = []
        if not isinstance(records, list):
            doc.reject("document", "", kind, _("Must be a list of records."))
            continue
        handler = _HANDLERS[kind]
        seen: set[str] = set()
        for index, record in enumerate(records):
            record_id = record.get("id") if isinstance(record, dict) else None
            label = record_id if isinstance(record_id, str) else f"#{index + 1}"
            errors = record_errors(kind, record)
            if errors:
                for field_name, message in errors:
                    doc.reject(kind, label, field_name, message)
            elif record_id in seen:
                doc.reject(kind, record_id, "id", _("Duplicate id in this transfer."))
            else:
                seen.add(record_id)
                handler(doc, record)
            done += 1
            if progress and done % 500 == 0:
                progress(500)
    _parse_deleted(doc, data.get("deletedEntities"))
    if progress:
        progress(done % 500)
    return doc


def _parse_deleted(doc: Document, deleted: Any) -> None:
    if deleted is None:
        return
    if not isinstance(deleted, dict):
        doc.reject("document", "", "deletedEntities", _("Must be an object of id lists."))
        return
    for kind, ids in deleted.items():
        if kind not in DELETABLE:
            doc.reject("document", "", f"deletedEntities.{kind}", _("Unknown kind of record."))
            continue
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            doc.reject("document", "", f"deletedEntities.{kind}", _("Must be a list of ids."))
            continue
        if len(set(ids)) != len(ids):
            doc.reject(
                "document", "", f"deletedEntities.{kind}", _("Duplicate id in this transfer.")
            )
        doc.deleted[kind] = list(dict.fromkeys(ids))


def _organisation(doc: Document, rec: dict) -> None:
    org_type = rec.get("organisationType", SCHOOL_UNIT_TYPE)
    if org_type != SCHOOL_UNIT_TYPE:
        doc.reject(
            "organisations",
            rec["id"],
            "organisationType",
            _("Only school units (Skolenhet) can be transferred."),
        )
        return
    school_types = rec.get("schoolTypes") or []
    if not isinstance(school_types, list) or not all(isinstance(t, str) for t in school_types):
        doc.reject("organisations", rec["id"], "schoolTypes", _("Must be a list of school types."))
        return
    doc.units[rec["id"]] = {
        "name": (rec.get("displayName") or rec["schoolUnitCode"])[:200],
        "school_unit_code": rec["schoolUnitCode"].strip(),
        "school_types": school_types,
        "municipality_code": str(rec.get("municipalityCode") or "")[:10],
    }


def _person(doc: Document, rec: dict) -> None:
    pid = rec["id"]
    try:
        civic = normalise_civic_number(rec["civicNo"]["value"])
    except ValidationError as exc:
        doc.reject("persons", pid, "civicNo.value", exc.messages[0])
        return
    birth_date = None
    if len(civic) == 12:
        day = int(civic[6:8])
        birth_date = datetime.date(int(civic[:4]), int(civic[4:6]), day - 60 if day > 60 else day)
    given = rec["givenName"]
    if rec.get("middleName"):
        given = f"{given} {rec['middleName']}"
    eppn = rec["eduPersonPrincipalNames"][0].strip()
    if not eppn:
        doc.reject("persons", pid, "eduPersonPrincipalNames", _("Must not be empty."))
        return
    emails = rec.get("emails") or []
    enrolments = []
    for enrolment in rec.get("enrolments") or []:
        if enrolment.get("cancelled"):
            continue
        year = enrolment.get("schoolYear")
        enrolments.append(
            (
                _ref(enrolment["enroledAt"]),
                enrolment["schoolType"][:10],
                None if year is None else int(year),
            )
        )
    doc.persons[pid] = {
        "given_name": given[:100],
        "family_name": rec["familyName"][:100],
        "civic_number": civic,
        "birth_date": birth_date,
        "eppn": eppn[:200],
        "email": (emails[0]["value"].strip() if emails else "")[:254],
        "protected_identity": rec.get("securityMarking") in PROTECTED_MARKINGS,
        "enrolments": enrolments,
    }


def _refs(
    doc: Document, kind: str, rec: dict, list_key: str, ref_key: str, message: str
) -> list[str]:
    """The ids that the entries of `rec[list_key]` name under `ref_key`, each once and in order;
    an entry that names none is rejected."""
    refs = []
    for index, entry in enumerate(rec.get(list_key) or []):
        if ref_key in entry:
            refs.append(_ref(entry[ref_key]))
        else:
            doc.reject(kind, rec["id"], f"{list_key}[{index}].{ref_key}", message)
    return list(dict.fromkeys(refs))


def _group(doc: Document, rec: dict) -> None:
    members = _refs(
        doc,
        "groups",
        rec,
        "groupMemberships",
        "person",
        _("A group membership must name its person."),
    )
    doc.groups[rec["id"]] = {
        "unit": _ref(rec["organisation"]),
        "name": rec["displayName"][:200],
        "group_type": rec["groupType"][:40],
        "members": members,
    }


def _duty(doc: Document, rec: dict) -> None:
    try:
        start, end = _date(rec.get("startDate")), _date(rec.get("endDate"))
    except ValueError:
        doc.reject("duties", rec["id"], "startDate", _("Dates must be written YYYY-MM-DD."))
        return
    doc.duties[rec["id"]] = {
        "person": _ref(rec["person"]),
        "unit": _ref(rec["dutyAt"]),
        "duty_role": rec["dutyRole"][:60],
        "start_date": start,
        "end_date": end,
    }


def _activity(doc: Document, rec: dict) -> None:
    # Only teachers named by their duty at a school unit can be linked to a group.
    duties = _refs(
        doc,
        "activities",
        rec,
        "teachers",
        "duty",
        _("A teacher of an activity must name their duty."),
    )
    doc.activities[rec["id"]] = {
        "unit": _ref(rec["organisation"]),
        "groups": list(dict.fromkeys(_ref(g) for g in rec["groups"])),
        "duties": duties,
    }


_HANDLERS = {
    "organisations": _organisation,
    "persons": _person,
    "groups": _group,
    "duties": _duty,
    "activities": _activity,
}
