"""The check of an incoming transfer document against what the organiser has stored.

Every rejection is listed on the document (`Document.reject`); nothing is written. Stored rows
come from the run's snapshot; the few lookups across organisers (unique school unit codes, eppns
and logins) take one query per chunk of values, never one per record.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _

from provplattform.bulk import chunked
from schools.models import Duty, Enrolment, Person, SchoolUnit, User
from schools.transfer.snapshot import StoredDuty, StoredGroup
from schools.transfer.state import RunState


def check_document(run: RunState) -> None:
    """List every rejection of the run's document on it; the document is applied only if none."""
    doc, snap = run.doc, run.snap
    deleted = {k: set(v) for k, v in doc.deleted.items()}
    known_units = set(snap.units) | set(doc.units)
    known_persons = (set(snap.persons) | set(doc.persons)) - deleted.get("persons", set())
    known_groups = (set(snap.groups) | set(doc.groups)) - deleted.get("groups", set())
    known_duties = (set(snap.duties) | set(doc.duties)) - deleted.get("duties", set())
    scope_ext = run.scope_unit.external_id if run.scope_unit else None

    def unit_ref(kind, rid, field_name, ext):
        if ext not in known_units:
            doc.reject(kind, rid, field_name, _("Unknown school unit %(id)s.") % {"id": ext})
        elif scope_ext is not None and ext != scope_ext:
            doc.reject(kind, rid, field_name, _("Outside the school unit of this upload."))

    # School units: codes are unique across the platform.
    codes: dict[str, str] = {}
    for ext, unit in doc.units.items():
        if scope_ext is not None and ext != scope_ext:
            doc.reject("organisations", ext, "id", _("Outside the school unit of this upload."))
        code = unit["school_unit_code"]
        if code in codes:
            doc.reject("organisations", ext, "schoolUnitCode", _("Duplicate school unit code."))
        codes[code] = ext
    for chunk in chunked(codes):
        for org_id, ext, code in SchoolUnit.objects.filter(school_unit_code__in=chunk).values_list(
            "organiser_id", "external_id", "school_unit_code"
        ):
            if org_id != run.organiser.pk or ext != codes[code]:
                doc.reject(
                    "organisations",
                    codes[code],
                    "schoolUnitCode",
                    _("School unit code already belongs to another school unit."),
                )

    # Persons: eppn unique, enrolments point at known units.
    eppns: dict[str, str] = {}
    for ext, person in doc.persons.items():
        if ext in deleted.get("persons", ()):
            doc.reject("persons", ext, "id", _("Both sent and deleted in this transfer."))
        for unit_ext, _type, _year in person["enrolments"]:
            unit_ref("persons", ext, "enrolments.enroledAt", unit_ext)
        if person["eppn"] in eppns:
            doc.reject(
                "persons", ext, "eduPersonPrincipalNames", _("Duplicate eppn in this transfer.")
            )
        eppns[person["eppn"]] = ext
    if run.scope_unit is not None:
        _check_persons_in_scope(run, run.scope_unit)
    for chunk in chunked(eppns):
        for org_id, ext, eppn in Person.objects.filter(eppn__in=chunk).values_list(
            "organiser_id", "external_id", "eppn"
        ):
            if org_id == run.organiser.pk and (
                ext == eppns[eppn] or (ext in doc.persons and doc.persons[ext]["eppn"] != eppn)
            ):
                continue  # the same person, or one that gives the eppn up in this run
            doc.reject(
                "persons",
                eppns[eppn],
                "eduPersonPrincipalNames",
                _("Already used by another person."),
            )

    for ext, group in doc.groups.items():
        unit_ref("groups", ext, "organisation", group["unit"])
        for member in group["members"]:
            if member not in known_persons:
                doc.reject(
                    "groups",
                    ext,
                    "groupMemberships",
                    _("Unknown person %(id)s.") % {"id": member},
                )
    unit_ext = {row.id: ext for ext, row in snap.units.items()}
    _check_members_enrolled(run, known_units, known_persons, unit_ext)
    for ext, duty in doc.duties.items():
        unit_ref("duties", ext, "dutyAt", duty["unit"])
        if duty["person"] not in known_persons:
            doc.reject(
                "duties", ext, "person", _("Unknown person %(id)s.") % {"id": duty["person"]}
            )
    for ext, activity in doc.activities.items():
        unit_ref("activities", ext, "organisation", activity["unit"])
        for gid in activity["groups"]:
            if gid not in known_groups:
                doc.reject("activities", ext, "groups", _("Unknown group %(id)s.") % {"id": gid})
        for did in activity["duties"]:
            if did not in known_duties:
                doc.reject("activities", ext, "teachers", _("Unknown duty %(id)s.") % {"id": did})
    _check_teachers_at_group_unit(run, known_units, known_groups, known_duties, unit_ext)

    stored: dict[str, Mapping[str, object]] = {
        "organisations": snap.units,
        "persons": snap.persons,
        "groups": snap.groups,
        "duties": snap.duties,
        "activities": snap.activities,
    }
    sent = {
        "organisations": doc.units,
        "persons": doc.persons,
        "groups": doc.groups,
        "duties": doc.duties,
        "activities": doc.activities,
    }
    for kind, ids in doc.deleted.items():
        for ext in ids:
            if kind in stored and ext not in stored[kind]:
                doc.reject(kind, ext, "deletedEntities", _("Unknown id; nothing to delete."))
            elif kind not in ("persons",) and ext in sent[kind]:
                doc.reject(kind, ext, "deletedEntities", _("Both sent and deleted."))
    _check_logins(run)


def _check_members_enrolled(
    run: RunState, known_units: set[str], known_persons: set[str], unit_ext: dict[int, str]
) -> None:
    """A group's members must be enrolled at the group's school unit (after this run), so a
    group never shows one unit's students to another unit's staff."""
    doc = run.doc
    enrolled: dict[str, set[str]] = {
        ext: {unit for unit, _type, _year in person["enrolments"]}
        for ext, person in doc.persons.items()
    }
    members = {m for group in doc.groups.values() for m in group["members"]}
    need_stored = {m for m in members if m not in doc.persons}
    if run.scope_unit is not None:
        need_stored |= members & doc.persons.keys()
    if need_stored:
        scope_id = run.scope_unit.pk if run.scope_unit else None
        for person_ext, unit_id in Enrolment.objects.filter(
            person__organiser=run.organiser
        ).values_list("person__external_id", "school_unit_id"):
            if person_ext not in need_stored:
                continue
            if person_ext in doc.persons and unit_id == scope_id:
                continue  # the upload replaces this person's enrolment at its unit
            enrolled.setdefault(person_ext, set()).add(unit_ext[unit_id])
    for ext, group in doc.groups.items():
        for member in group["members"]:
            if (
                member in known_persons
                and group["unit"] in known_units
                and group["unit"] not in enrolled.get(member, ())
            ):
                doc.reject(
                    "groups",
                    ext,
                    "groupMemberships",
                    _("Person %(id)s is not enrolled at the group's school unit.") % {"id": member},
                )


def _check_teachers_at_group_unit(
    run: RunState,
    known_units: set[str],
    known_groups: set[str],
    known_duties: set[str],
    unit_ext: dict[int, str],
) -> None:
    """An activity's teachers must hold their duty at the school unit of each of its groups:
    a teacher never gets results access to another unit's group."""
    doc, snap = run.doc, run.snap

    def unit_of(
        ext: str, sent: dict[str, dict], stored: Mapping[str, StoredGroup | StoredDuty]
    ) -> str | None:
        """The unit a record is at after this run: as sent, else as stored."""
        return sent[ext]["unit"] if ext in sent else unit_ext.get(stored[ext].school_unit_id)

    for ext, activity in doc.activities.items():
        duty_units = [
            (did, unit_of(did, doc.duties, snap.duties))
            for did in activity["duties"]
            if did in known_duties
        ]
        for gid in activity["groups"]:
            if gid not in known_groups:
                continue
            group_unit = unit_of(gid, doc.groups, snap.groups)
            if group_unit not in known_units:
                continue
            for did, duty_unit in duty_units:
                if duty_unit in known_units and duty_unit != group_unit:
                    doc.reject(
                        "activities",
                        ext,
                        "teachers",
                        _("Duty %(duty)s is not at the school unit of group %(group)s.")
                        % {"duty": did, "group": gid},
                    )


def _check_persons_in_scope(run: RunState, scope_unit: SchoolUnit) -> None:
    """A school's upload may only touch persons already at that unit, or new ones."""
    unit_id = scope_unit.pk
    stored_ids = {run.snap.persons[e].id: e for e in run.doc.persons if e in run.snap.persons}
    if not stored_ids:
        return
    at_unit = set(
        Enrolment.objects.filter(
            school_unit__organiser=run.organiser, school_unit_id=unit_id
        ).values_list("person_id", flat=True)
    ) | set(Duty.objects.filter(school_unit_id=unit_id).values_list("person_id", flat=True))
    for pid, ext in stored_ids.items():
        if pid not in at_unit:
            run.doc.reject("persons", ext, "id", _("Belongs to another school unit."))


def _check_logins(run: RunState) -> None:
    """Staff get a login named by their eppn; it must not belong to someone else."""
    staff = {d["person"] for d in run.doc.duties.values()}
    stored_staff = {duty.person_id for duty in run.snap.duties.values()}
    staff |= {
        ext
        for ext, row in run.snap.persons.items()
        if ext in run.doc.persons and row.id in stored_staff
    }
    wanted = {run.doc.persons[e]["eppn"]: e for e in staff if e in run.doc.persons}
    for chunk in chunked(wanted):
        for username, person_id in User.objects.filter(username__in=chunk).values_list(
            "username", "person_id"
        ):
            ext = wanted[username]
            stored = run.snap.persons.get(ext)
            if stored is None or person_id != stored.id:
                run.doc.reject(
                    "persons",
                    ext,
                    "eduPersonPrincipalNames",
                    "A login with this eppn belongs to someone else.",
                )
