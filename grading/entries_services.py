"""Points for whole subtests done outside the platform (oral parts) or as paper replacement
tests, entered per student: by hand on a page, or from an uploaded form.

Every way in goes through `entries_check` (row by row, naming row and column) and `_apply` (one
transaction, one audit row per changed entry, the results hook). Nothing is applied while any row
is refused: a form with one bad row applies nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.models import Assignment, PaperReplacement, Subtest
from grading.hooks import scores_changed_notify
from grading.models import EntryImport, EntryImportStatus, EntrySource, SubtestEntry
from provplattform.audit import AuditAction, audit_record
from provplattform.errors import Conflict, NotFound, Refused
from provplattform.lookup import get_by_public_id
from schools.models import Enrolment, Person, SchoolUnit, TeachingGroup, User
from schools.roles import Capability
from schools.selectors import school_units_for


class EntriesRefused(Refused):
    code = "entries_refused"

    def __init__(self, message: object = "", *, problems: list[dict] | None = None):
        super().__init__(message or _("Nothing was saved: some rows are refused."))
        self.problems = problems or []


# --- who may enter, and for whom ----------------------------------------------------------------


def access_entry_unit(*, user: User, public_id) -> SchoolUnit:
    """The unit, if the user may enter results there (assessors, teachers, the lead and the
    administrators); otherwise NotFound."""
    for capability in (Capability.PREPARE_GRADING, Capability.ASSESS):
        unit = school_units_for(user, capability).filter(public_id=public_id).first()
        if unit is not None:
            return unit
    raise NotFound()


def access_group(*, school_unit: SchoolUnit, public_id) -> TeachingGroup:
    return get_by_public_id(TeachingGroup.objects.filter(school_unit=school_unit), public_id)


def subtest_max_points(subtest: Subtest) -> int | None:
    """An off-platform part's own maximum; for a paper replacement, its items' points."""
    if subtest.max_points is not None:
        return int(subtest.max_points)
    total = subtest.items.aggregate(total=Sum("max_points"))["total"]
    return int(total) if total else None


@dataclass(frozen=True)
class Target:
    person: Person
    subtest: Subtest
    source: str
    max_points: int | None


def entry_targets(*, school_unit: SchoolUnit, persons=None) -> dict[tuple[int, int], Target]:
    """(person id, subtest id) → what may be entered: subtests assigned at the unit that are done
    outside the platform, and paper replacement tests recorded at the unit."""
    off = Assignment.objects.filter(school_unit=school_unit, subtest__on_platform=False)
    paper = PaperReplacement.objects.filter(school_unit=school_unit)
    if persons is not None:
        off, paper = off.filter(person__in=persons), paper.filter(person__in=persons)
    targets: dict[tuple[int, int], Target] = {}
    maxima: dict[int, int | None] = {}
    for rows, source in ((off, EntrySource.OFF_PLATFORM), (paper, EntrySource.PAPER)):
        for row in rows.select_related("person", "subtest", "subtest__test"):
            if row.subtest_id not in maxima:
                maxima[row.subtest_id] = subtest_max_points(row.subtest)
            targets[(row.person_id, row.subtest_id)] = Target(
                row.person, row.subtest, source, maxima[row.subtest_id]
            )
    return targets


@dataclass
class SheetRow:
    target: Target
    entry: SubtestEntry | None
    typed: str | None = None  # what was typed on a refused page, shown again

    @property
    def key(self) -> str:
        return f"{self.target.person.public_id}_{self.target.subtest.public_id}"


def entry_sheet(*, school_unit: SchoolUnit, group: TeachingGroup | None) -> list[SheetRow]:
    """The group's students (every student of the unit without a group) with what may be
    entered for them, and what is entered."""
    if group is None:
        members = Person.objects.filter(enrolments__school_unit=school_unit).distinct()
    else:
        members = group.members.filter(enrolments__school_unit=school_unit).distinct()
    targets = entry_targets(school_unit=school_unit, persons=members)
    entries = {
        (e.person_id, e.subtest_id): e
        for e in SubtestEntry.objects.filter(
            school_unit=school_unit, person__in=members, subtest_id__in={k[1] for k in targets}
        )
    }
    rows = [SheetRow(t, entries.get(key)) for key, t in targets.items()]
    rows.sort(
        key=lambda r: (r.target.person.family_name, r.target.person.given_name,
                       r.target.person.pk, r.target.subtest.test_id, r.target.subtest.position)
    )  # fmt: skip
    return rows


# --- checking rows ------------------------------------------------------------------------------


@dataclass
class CheckedRows:
    valid: list[dict] = field(default_factory=list)  # {"row", "person", "subtest", "points"}
    problems: list[dict] = field(default_factory=list)  # {"row", "column", "message"}

    def refuse(self, row: Any, column: str, message: str) -> None:
        self.problems.append({"row": row, "column": column, "message": message})


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value).strip())
    except (ValueError, TypeError, AttributeError):
        return None


def _points(value: Any) -> int | str | None:
    """A whole number, None for an empty cell, or the reason it is not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return _("Points must be a whole number.")
    if isinstance(value, float):
        return int(value) if value.is_integer() else _("Points must be a whole number.")
    if isinstance(value, int):
        return value
    text = str(value).strip().replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return _("Points must be a whole number.")
    if not number.is_integer():
        return _("Points must be a whole number.")
    return int(number)


def entries_check(*, school_unit: SchoolUnit, rows: list[dict]) -> CheckedRows:
    """Check rows {"row", "student", "subtest", "points"} (values as typed). A row with empty
    points is left out (nothing entered); every refusal names its row and column."""
    result = CheckedRows()
    person_ids = {u for r in rows if (u := _uuid(r.get("student")))}
    subtest_ids = {u for r in rows if (u := _uuid(r.get("subtest")))}
    # Keyed so that a malformed id (None) simply finds nothing.
    persons: dict[uuid.UUID | None, Person] = {
        p.public_id: p
        for p in Person.objects.filter(
            public_id__in=person_ids, organiser_id=school_unit.organiser_id
        )
    }
    enrolled = set(
        Enrolment.objects.filter(school_unit=school_unit, person__in=persons.values()).values_list(
            "person_id", flat=True
        )
    )
    subtests: dict[uuid.UUID | None, Subtest] = {
        s.public_id: s for s in Subtest.objects.filter(public_id__in=subtest_ids)
    }
    targets = entry_targets(
        school_unit=school_unit, persons=[p for p in persons.values() if p.pk in enrolled]
    )
    seen: dict[tuple[int, int], Any] = {}
    for raw in rows:
        number = raw.get("row")
        points = _points(raw.get("points"))
        if points is None:
            continue
        person = persons.get(_uuid(raw.get("student")))
        if person is None:
            result.refuse(number, "student_id", _("Unknown student."))
            continue
        if person.pk not in enrolled:
            result.refuse(number, "student_id", _("The student belongs to another school unit."))
            continue
        subtest = subtests.get(_uuid(raw.get("subtest")))
        target = targets.get((person.pk, subtest.pk)) if subtest else None
        if subtest is None or target is None:
            result.refuse(
                number,
                "subtest_id",
                _("The subtest is not assigned to this student outside the platform or on paper."),
            )
            continue
        key = (person.pk, subtest.pk)
        if key in seen:
            result.refuse(number, "student_id", _("Duplicate of row %(row)s.") % {"row": seen[key]})
            continue
        seen[key] = number
        if isinstance(points, str):
            result.refuse(number, "points", points)
            continue
        if target.max_points is None:
            result.refuse(number, "points", _("The subtest has no maximum points."))
            continue
        if not 0 <= points <= target.max_points:
            result.refuse(
                number,
                "points",
                _("Points must be between 0 and %(max)s.") % {"max": target.max_points},
            )
            continue
        result.valid.append(
            {
                "row": number,
                "person": str(person.public_id),
                "subtest": str(subtest.public_id),
                "points": points,
                "source": target.source,
                "version": raw.get("version"),
            }
        )
    return result


# --- applying -----------------------------------------------------------------------------------


def _stale(entry: SubtestEntry | None, version: Any) -> bool:
    """Whether the entry changed since the page was read ("new": there was none then)."""
    if version in (None, ""):
        return False
    if version == "new":
        return entry is not None
    try:
        return entry is None or entry.version != int(version)
    except (TypeError, ValueError):
        return True


def _apply(*, actor: User, school_unit: SchoolUnit, rows: list[dict], check_versions: bool) -> int:
    """Write checked rows in one transaction; returns how many entries changed."""
    persons = {
        str(p.public_id): p
        for p in Person.objects.filter(public_id__in=[r["person"] for r in rows])
    }
    subtests = {
        str(s.public_id): s
        for s in Subtest.objects.filter(public_id__in=[r["subtest"] for r in rows])
    }
    changed = 0
    touched_subtests, touched_persons = set(), set()
    with transaction.atomic():
        for row in rows:
            person, subtest = persons[row["person"]], subtests[row["subtest"]]
            entry = (
                SubtestEntry.objects.select_for_update()
                .filter(person=person, subtest=subtest)
                .first()
            )
            if check_versions and _stale(entry, row.get("version")):
                raise Conflict()
            before = None if entry is None else {"points": entry.points, "version": entry.version}
            if entry is not None and entry.points == row["points"]:
                continue
            if entry is None:
                entry = SubtestEntry(
                    school_unit=school_unit, person=person, subtest=subtest, version=0
                )
            else:
                entry.version += 1
            entry.points = row["points"]
            entry.source = row["source"]
            entry.entered_by = actor
            entry.school_unit = school_unit
            entry.save()
            audit_record(
                actor=actor,
                action=AuditAction.SCORE_ENTRY_SAVED,
                target=entry,
                before=before,
                after={"points": entry.points, "version": entry.version, "source": entry.source},
                scope=school_unit,
            )
            changed += 1
            touched_subtests.add(subtest.pk)
            touched_persons.add(person.pk)
        scores_changed_notify(
            school_unit_id=school_unit.pk, subtest_ids=touched_subtests, person_ids=touched_persons
        )
    return changed


def entries_save(*, actor: User, school_unit: SchoolUnit, rows: list[dict]) -> int:
    """Entries typed on the page (each with the version it was read at). All or nothing: any
    refused row, or an entry changed by someone else meanwhile, saves none."""
    checked = entries_check(school_unit=school_unit, rows=rows)
    if checked.problems:
        raise EntriesRefused(problems=checked.problems)
    try:
        return _apply(actor=actor, school_unit=school_unit, rows=checked.valid, check_versions=True)
    except Conflict as exc:
        raise Conflict(
            _("Someone else changed an entry in the meantime; nothing was saved. Reload the page.")
        ) from exc


def entry_import_check(
    *,
    actor: User,
    school_unit: SchoolUnit,
    group: TeachingGroup | None,
    file_name: str,
    data: bytes,
) -> EntryImport:
    """Read and check an uploaded form; nothing is applied. Refuses a file that is not a safe,
    readable workbook of reasonable size before parsing it."""
    from grading.entries_xlsx import read_form  # noqa: PLC0415 - entries_xlsx imports this module: a cycle

    rows, letters = read_form(data)
    checked = entries_check(school_unit=school_unit, rows=rows)
    for row in checked.valid:
        row.pop("version", None)
    for problem in checked.problems:
        problem["letter"] = letters.get(problem["column"], "")
    return EntryImport.objects.create(
        school_unit=school_unit,
        group=group,
        uploaded_by=actor,
        file_name=(file_name or "")[:200],
        rows=checked.valid,
        problems=checked.problems,
    )


def entry_import_apply(*, actor: User, entry_import: EntryImport) -> int:
    """Apply a checked upload that its uploader has seen: one transaction, audited. Checked again
    first (a student may have moved since); any refused row applies nothing."""
    if entry_import.status != EntryImportStatus.CHECKED:
        raise Conflict(_("This upload was already applied or discarded."))
    if entry_import.problems:
        raise EntriesRefused(_("Correct the refused rows and upload the form again."))
    school_unit = entry_import.school_unit
    rows = [
        {"row": r["row"], "student": r["person"], "subtest": r["subtest"], "points": r["points"]}
        for r in entry_import.rows
    ]
    checked = entries_check(school_unit=school_unit, rows=rows)
    if checked.problems:
        raise EntriesRefused(problems=checked.problems)
    with transaction.atomic():
        locked = EntryImport.objects.select_for_update().get(pk=entry_import.pk)
        if locked.status != EntryImportStatus.CHECKED:
            raise Conflict(_("This upload was already applied or discarded."))
        changed = _apply(
            actor=actor, school_unit=school_unit, rows=checked.valid, check_versions=False
        )
        locked.status = EntryImportStatus.APPLIED
        locked.applied_at = timezone.now()
        locked.save(update_fields=["status", "applied_at", "modified"])
        audit_record(
            actor=actor,
            action=AuditAction.SCORE_ENTRY_IMPORT_APPLIED,
            target=locked,
            after={"rows": len(checked.valid), "changed": changed},
            scope=school_unit,
        )
    entry_import.refresh_from_db()
    return changed


def entry_import_discard(*, actor: User, entry_import: EntryImport) -> None:
    """Throw a checked upload away; nothing of it was applied."""
    with transaction.atomic():
        updated = EntryImport.objects.filter(
            pk=entry_import.pk, status=EntryImportStatus.CHECKED
        ).update(status=EntryImportStatus.DISCARDED, modified=timezone.now())
        if not updated:
            raise Conflict(_("This upload was already applied or discarded."))
        audit_record(
            actor=actor,
            action=AuditAction.SCORE_ENTRY_IMPORT_DISCARDED,
            target=entry_import,
            after={"rows": len(entry_import.rows), "problems": len(entry_import.problems)},
            scope=entry_import.school_unit,
        )
