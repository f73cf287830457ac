"""Applying a checked transfer document with set-based writes.

Runs inside the caller's transaction with the organiser's row locked. Every table is read once for
the whole organiser (no query per record); writes are bulk upserts by external id that touch only
new or changed rows, so the same document applied twice writes nothing the second time. Logins,
roles, teacher links and the guardian permissions that follow them are `access`'s part.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple, TypeVar

from provplattform.audit import AuditAction, audit_record_many
from provplattform.bulk import ORM_BATCH, bulk_insert, chunked
from schools.models import (
    Activity,
    Duty,
    Enrolment,
    GroupMembership,
    Person,
    SchoolUnit,
    TeachingGroup,
)
from schools.roles import role_for_duty
from schools.transfer import access
from schools.transfer.snapshot import (
    NEW,
    PERSON_FIELDS,
    StoredDuty,
    StoredGroup,
    StoredUnit,
)
from schools.transfer.state import Counts, PersonUnit, RoleKey, RunState


def apply_document(run: RunState) -> None:
    """Write a checked document: every record kind in turn, then deletions, then access."""
    unit_ids = _apply_units(run)
    person_ids = _apply_persons(run)
    _apply_enrolments(run, person_ids, unit_ids)
    group_ids = _apply_groups(run, unit_ids)
    _apply_memberships(run, group_ids, person_ids)
    duty_person = _apply_duties(run, unit_ids, person_ids)
    _apply_teachers(run, group_ids, duty_person)
    _store_activities(run, group_ids, duty_person)
    removed_persons = _apply_deletions(run)
    access.resync_moved_groups(run)
    access.drop_teachers_without_duty(run)
    access.apply_users(run, removed_persons)
    access.apply_roles(run, removed_persons)


def _apply_units(run: RunState) -> dict[str, int]:
    snap, counts = run.snap, run.counts["school_units"]
    rows = []
    for ext, unit in run.doc.units.items():
        stored = snap.units.get(ext)
        wanted = StoredUnit(
            id=stored.id if stored is not None else NEW,
            name=unit["name"],
            school_unit_code=unit["school_unit_code"],
            school_types=unit["school_types"],
            municipality_code=unit["municipality_code"],
            removed_at=None,
        )
        if stored is not None and stored == wanted:
            counts.unchanged += 1
            continue
        if stored is None:
            counts.created += 1
        else:
            counts.updated += 1
            run.changed_units.add(stored.id)
        rows.append(
            SchoolUnit(
                organiser=run.organiser,
                external_id=ext,
                name=wanted.name,
                school_unit_code=wanted.school_unit_code,
                school_types=wanted.school_types,
                municipality_code=wanted.municipality_code,
                removed_at=None,
            )
        )
    SchoolUnit.objects.bulk_create(
        rows,
        batch_size=ORM_BATCH,
        update_conflicts=True,
        unique_fields=["organiser", "external_id"],
        update_fields=[
            "name",
            "school_unit_code",
            "school_types",
            "municipality_code",
            "removed_at",
            "modified",
        ],
    )
    ids = {ext: row.id for ext, row in snap.units.items()}
    if counts.created:
        ids = dict(
            SchoolUnit.objects.filter(organiser=run.organiser).values_list("external_id", "id")
        )
        run.changed_units |= {ids[e] for e in run.doc.units if e not in snap.units}
    run.progress(len(run.doc.units))
    return ids


def _apply_persons(run: RunState) -> dict[str, int]:
    snap, counts = run.snap, run.counts["persons"]
    rows: list[Person] = []
    changed_eppn: list[int] = []
    # Persons the organiser removed earlier and sends again come back with their login.
    run.reactivated = {
        snap.persons[e].id
        for e in run.doc.persons
        if e in snap.persons and snap.persons[e].removed_at is not None
    }
    for ext, person in run.doc.persons.items():
        values = {f: person[f] for f in PERSON_FIELDS}
        stored = snap.persons.get(ext)
        if stored is not None and stored == stored._replace(**values, removed_at=None):
            counts.unchanged += 1
            continue
        if stored is None:
            counts.created += 1
        else:
            counts.updated += 1
            run.updated_person_ids.add(stored.id)
            if stored.eppn != person["eppn"]:
                changed_eppn.append(stored.id)
        rows.append(Person(organiser=run.organiser, external_id=ext, removed_at=None, **values))
    if changed_eppn:
        # Free the old eppns first so that two persons may swap theirs within one run.
        for chunk in chunked(changed_eppn):
            Person.objects.filter(id__in=chunk).update(eppn="")
    bulk_insert(
        Person,
        rows,
        unique_fields=["organiser", "external_id"],
        update_fields=[*PERSON_FIELDS, "removed_at", "modified"],
    )
    ids = {ext: row.id for ext, row in snap.persons.items()}
    if counts.created:
        ids = dict(Person.objects.filter(organiser=run.organiser).values_list("external_id", "id"))
    run.progress(len(run.doc.persons))
    return ids


class _StoredEnrolment(NamedTuple):
    id: int
    school_type: str
    school_year: int | None


def _apply_enrolments(run: RunState, person_ids: dict[str, int], unit_ids: dict[str, int]) -> None:
    counts = run.counts["enrolments"]
    sent_persons = {person_ids[ext] for ext in run.doc.persons}
    if not sent_persons:
        return
    existing: dict[PersonUnit, _StoredEnrolment] = {}
    for pk, pid, uid, school_type, year in Enrolment.objects.filter(
        person__organiser=run.organiser
    ).values_list("id", "person_id", "school_unit_id", "school_type", "school_year"):
        if pid in sent_persons:
            existing[(pid, uid)] = _StoredEnrolment(pk, school_type, year)
    # (person id, unit id) -> (school type, school year)
    wanted: dict[PersonUnit, tuple[str, int | None]] = {}
    for ext, person in run.doc.persons.items():
        for unit_ext, school_type, year in person["enrolments"]:
            wanted[(person_ids[ext], unit_ids[unit_ext])] = (school_type, year)
    rows = []
    for (pid, uid), (school_type, year) in wanted.items():
        stored = existing.get((pid, uid))
        if stored is not None and (stored.school_type, stored.school_year) == (school_type, year):
            counts.unchanged += 1
            continue
        if stored is None:
            counts.created += 1
        else:
            counts.updated += 1
        run.changed_units.add(uid)
        rows.append(
            Enrolment(person_id=pid, school_unit_id=uid, school_type=school_type, school_year=year)
        )
    bulk_insert(
        Enrolment,
        rows,
        unique_fields=["person", "school_unit"],
        update_fields=["school_type", "school_year", "modified"],
    )
    scope_id = run.scope_unit.pk if run.scope_unit else None
    stale = [
        (stored.id, uid)
        for (pid, uid), stored in existing.items()
        if (pid, uid) not in wanted and (scope_id is None or uid == scope_id)
    ]
    for chunk in chunked([pk for pk, _uid in stale]):
        Enrolment.objects.filter(id__in=chunk).delete()
    counts.removed += len(stale)
    run.changed_units |= {uid for _pk, uid in stale}
    # A person whose name or marking changed changes every unit they belong to.
    for pid, uid in set(existing) | set(wanted):
        if pid in run.updated_person_ids:
            run.changed_units.add(uid)


Stored = TypeVar("Stored", StoredGroup, StoredDuty)
Moved = TypeVar("Moved", TeachingGroup, Duty)


def _count_change(
    run: RunState,
    counts: Counts,
    stored: Stored | None,
    wanted: Stored,
    moved: list[Moved],
    model: type[Moved],
) -> bool:
    """Count a record against its stored row; False when nothing changed.

    `wanted` is the row as the record would store it (with the stored id). A record that moved
    to another unit is queued in `moved`, and both units are marked as changed (their readiness
    and late-change flags depend on it).
    """
    if stored is not None and stored == wanted:
        counts.unchanged += 1
        return False
    uid = wanted.school_unit_id
    if stored is None:
        counts.created += 1
    else:
        counts.updated += 1
        if stored.school_unit_id != uid:
            moved.append(model(id=stored.id, school_unit_id=uid))
            run.changed_units.add(stored.school_unit_id)
    run.changed_units.add(uid)
    return True


def _apply_groups(run: RunState, unit_ids: dict[str, int]) -> dict[str, int]:
    snap, counts = run.snap, run.counts["groups"]
    rows: list[TeachingGroup] = []
    moved: list[TeachingGroup] = []
    for ext, group in run.doc.groups.items():
        stored = snap.groups.get(ext)
        wanted = StoredGroup(
            id=stored.id if stored is not None else NEW,
            school_unit_id=unit_ids[group["unit"]],
            name=group["name"],
            group_type=group["group_type"],
        )
        if not _count_change(run, counts, stored, wanted, moved, TeachingGroup):
            continue
        rows.append(
            TeachingGroup(
                school_unit_id=wanted.school_unit_id,
                external_id=ext,
                name=wanted.name,
                group_type=wanted.group_type,
            )
        )
    run.moved_groups = {group.id: group.school_unit_id for group in moved}
    if moved:
        TeachingGroup.objects.bulk_update(moved, ["school_unit"], batch_size=ORM_BATCH)
    TeachingGroup.objects.bulk_create(
        rows,
        batch_size=ORM_BATCH,
        update_conflicts=True,
        unique_fields=["school_unit", "external_id"],
        update_fields=["name", "group_type", "modified"],
    )
    ids = {ext: row.id for ext, row in snap.groups.items()}
    if counts.created:
        ids = dict(
            TeachingGroup.objects.filter(school_unit__organiser=run.organiser).values_list(
                "external_id", "id"
            )
        )
    if counts.created or moved:
        run.group_units = dict(
            TeachingGroup.objects.filter(school_unit__organiser=run.organiser).values_list(
                "id", "school_unit_id"
            )
        )
    else:
        run.group_units = {row.id: row.school_unit_id for row in snap.groups.values()}
    run.progress(len(run.doc.groups))
    return ids


def _apply_memberships(
    run: RunState, group_ids: dict[str, int], person_ids: dict[str, int]
) -> None:
    counts = run.counts["group_members"]
    sent = {group_ids[ext] for ext in run.doc.groups}
    if not sent:
        return
    existing: dict[tuple[int, int], int] = {}  # (group id, person id) -> membership id
    for pk, gid, pid in GroupMembership.objects.filter(
        group__school_unit__organiser=run.organiser
    ).values_list("id", "group_id", "person_id"):
        if gid in sent:
            existing[(gid, pid)] = pk
    wanted = {
        (group_ids[ext], person_ids[member])
        for ext, group in run.doc.groups.items()
        for member in group["members"]
    }
    new = wanted - existing.keys()
    stale = [pk for key, pk in existing.items() if key not in wanted]
    bulk_insert(GroupMembership, [GroupMembership(group_id=g, person_id=p) for g, p in new])
    for chunk in chunked(stale):
        GroupMembership.objects.filter(id__in=chunk).delete()
    counts.created += len(new)
    counts.removed += len(stale)
    counts.unchanged += len(wanted) - len(new)
    run.changed_units |= {run.group_units[g] for g, _p in new}
    removed = set(stale)
    run.changed_units |= {run.group_units[g] for (g, _p), pk in existing.items() if pk in removed}


def _apply_duties(
    run: RunState, unit_ids: dict[str, int], person_ids: dict[str, int]
) -> dict[str, int]:
    """Write the duties; returns every duty's person id by the duty's external id."""
    snap, counts = run.snap, run.counts["duties"]
    rows: list[Duty] = []
    moved: list[Duty] = []
    for ext, duty in run.doc.duties.items():
        stored = snap.duties.get(ext)
        wanted = StoredDuty(
            id=stored.id if stored is not None else NEW,
            school_unit_id=unit_ids[duty["unit"]],
            person_id=person_ids[duty["person"]],
            duty_role=duty["duty_role"],
            start_date=duty["start_date"],
            end_date=duty["end_date"],
        )
        if not _count_change(run, counts, stored, wanted, moved, Duty):
            continue
        uid, pid = wanted.school_unit_id, wanted.person_id
        if stored is None or (stored.school_unit_id, stored.person_id, stored.duty_role) != (
            uid,
            pid,
            wanted.duty_role,
        ):
            # A new duty, or one whose unit, person or duty role changed, grants its role.
            run.granting.add(RoleKey(pid, uid, role_for_duty(wanted.duty_role).value))
        rows.append(
            Duty(
                school_unit_id=uid,
                person_id=pid,
                external_id=ext,
                duty_role=wanted.duty_role,
                start_date=wanted.start_date,
                end_date=wanted.end_date,
            )
        )
    if moved:
        Duty.objects.bulk_update(moved, ["school_unit"], batch_size=ORM_BATCH)
    Duty.objects.bulk_create(
        rows,
        batch_size=ORM_BATCH,
        update_conflicts=True,
        unique_fields=["school_unit", "external_id"],
        update_fields=["person", "duty_role", "start_date", "end_date", "modified"],
    )
    run.duties_changed = bool(rows)
    duty_person = {ext: row.person_id for ext, row in snap.duties.items()}
    for ext, duty in run.doc.duties.items():
        duty_person[ext] = person_ids[duty["person"]]
    run.progress(len(run.doc.duties))
    return duty_person


def _apply_teachers(run: RunState, group_ids: dict[str, int], duty_person: dict[str, int]) -> None:
    """Activities name the teachers of groups: a group an activity names gets exactly the
    teachers of the activities naming it in this run."""
    counts = run.counts["group_teachers"]
    wanted: dict[int, set[int]] = defaultdict(set)
    for activity in run.doc.activities.values():
        teachers = {duty_person[d] for d in activity["duties"]}
        for gext in activity["groups"]:
            wanted[group_ids[gext]] |= teachers
    if not wanted:
        run.progress(len(run.doc.activities))
        return
    through = TeachingGroup.teachers.through
    existing: dict[tuple[int, int], int] = {}  # (group id, person id) -> link id
    for pk, gid, pid in through.objects.filter(
        teachinggroup__school_unit__organiser=run.organiser
    ).values_list("id", "teachinggroup_id", "person_id"):
        if gid in wanted:
            existing[(gid, pid)] = pk
    wanted_pairs = {(g, p) for g, ps in wanted.items() for p in ps}
    new = wanted_pairs - existing.keys()
    stale = {key: pk for key, pk in existing.items() if key not in wanted_pairs}
    through.objects.bulk_create(
        [through(teachinggroup_id=g, person_id=p) for g, p in new], batch_size=ORM_BATCH
    )
    for chunk in chunked(stale.values()):
        through.objects.filter(id__in=chunk).delete()
    counts.created += len(new)
    counts.removed += len(stale)
    counts.unchanged += len(wanted_pairs) - len(new)
    for g, p in new | set(stale):
        run.changed_units.add(run.group_units[g])
        run.teacher_pairs.add((p, run.group_units[g]))
    run.progress(len(run.doc.activities))


def _store_activities(
    run: RunState, group_ids: dict[str, int], duty_person: dict[str, int]
) -> None:
    """Remember which teacher links each activity gave; only new or changed rows are written.

    `run.activity_links` holds every activity's links as stored after this (ext -> links)."""
    counts = run.counts["activities"]
    rows = []
    run.activity_links = {ext: row.links for ext, row in run.snap.activities.items()}
    for ext, activity in run.doc.activities.items():
        pairs = sorted(
            {(group_ids[g], duty_person[d]) for g in activity["groups"] for d in activity["duties"]}
        )
        links = [list(pair) for pair in pairs]
        run.activity_links[ext] = links
        stored = run.snap.activities.get(ext)
        if stored is not None and stored.links == links:
            counts.unchanged += 1
            continue
        if stored is None:
            counts.created += 1
        else:
            counts.updated += 1
        rows.append(Activity(organiser=run.organiser, external_id=ext, links=links))
    Activity.objects.bulk_create(
        rows,
        batch_size=ORM_BATCH,
        update_conflicts=True,
        unique_fields=["organiser", "external_id"],
        update_fields=["links", "modified"],
    )


def _apply_deletions(run: RunState) -> list[int]:
    """Delete what the document lists as deleted; returns the ids of the persons removed."""
    snap, deleted = run.snap, run.doc.deleted
    access.delete_activities(run)
    duties = [snap.duties[e] for e in deleted.get("duties", [])]
    for chunk in chunked([duty.id for duty in duties]):
        Duty.objects.filter(id__in=chunk).delete()
    run.counts["duties"].removed += len(duties)
    run.changed_units |= {duty.school_unit_id for duty in duties}
    if duties:
        run.duties_changed = True

    groups = [snap.groups[e] for e in deleted.get("groups", [])]
    for chunk in chunked([group.id for group in groups]):
        TeachingGroup.objects.filter(id__in=chunk).delete()
    run.counts["groups"].removed += len(groups)
    run.changed_units |= {group.school_unit_id for group in groups}

    units = [
        snap.units[e] for e in deleted.get("organisations", []) if snap.units[e].removed_at is None
    ]
    SchoolUnit.objects.filter(id__in=[unit.id for unit in units]).update(
        removed_at=run.now, modified=run.now
    )
    run.counts["school_units"].removed += len(units)
    run.changed_units |= {unit.id for unit in units}

    removed = [
        snap.persons[e] for e in deleted.get("persons", []) if snap.persons[e].removed_at is None
    ]
    removed_ids = [row.id for row in removed]
    if removed_ids:
        Person.objects.filter(id__in=removed_ids).update(removed_at=run.now, modified=run.now)
        GroupMembership.objects.filter(person_id__in=removed_ids).delete()
        TeachingGroup.teachers.through.objects.filter(person_id__in=removed_ids).delete()
        run.changed_units |= set(
            Enrolment.objects.filter(person_id__in=removed_ids).values_list(
                "school_unit_id", flat=True
            )
        ) | set(
            Duty.objects.filter(person_id__in=removed_ids).values_list("school_unit_id", flat=True)
        )
        # Roles go, audited; the person row and their test history stay.
        access.revoke_roles(run, removed_ids)
        public_ids = {row.id: row.public_id for row in removed}
        audit_record_many(
            [
                {
                    "action": AuditAction.PERSON_REMOVE,
                    "target": Person(id=pid, public_id=public_ids[pid]),
                    "reason": run.reason,
                }
                for pid in removed_ids
            ]
        )
    run.counts["persons"].removed += len(removed_ids)
    run.progress(sum(len(v) for v in deleted.values()))
    return removed_ids
