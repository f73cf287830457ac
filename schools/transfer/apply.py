"""Checking a parsed transfer against stored data, and applying it with set-based writes.

Runs inside the caller's transaction with the organiser's row locked. Every table is read once for
the whole organiser (no query per record); writes are bulk upserts by external id that touch only
new or changed rows, so the same document applied twice writes nothing the second time.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from django.utils.translation import gettext as _

from provplattform.audit import AuditAction, audit_record_many
from provplattform.bulk import BATCH, ORM_BATCH, bulk_insert
from schools import hooks
from schools.models import (
    Activity,
    Duty,
    Enrolment,
    GroupMembership,
    Organiser,
    Person,
    RoleAssignment,
    RoleSource,
    SchoolUnit,
    TeachingGroup,
    TeachingGroupUserObjectPermission,
    User,
)
from schools.roles import role_for_duty
from schools.services import permissions_sync_many
from schools.transfer.document import Document

KIND_LABELS = (
    "school_units",
    "persons",
    "enrolments",
    "groups",
    "group_members",
    "duties",
    "group_teachers",
    "activities",
    "users",
    "roles",
)


def _chunked(values: Iterable, size: int = BATCH):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


@dataclass
class Snapshot:
    """What the organiser has stored now, read with one query per table."""

    units: dict[str, tuple] = field(
        default_factory=dict
    )  # ext -> (id, name, code, types, muni, removed)
    persons: dict[str, tuple] = field(
        default_factory=dict
    )  # ext -> (id, public_id, fields..., removed)
    groups: dict[str, tuple] = field(default_factory=dict)  # ext -> (id, unit_id, name, type)
    duties: dict[str, tuple] = field(
        default_factory=dict
    )  # ext -> (id, unit_id, person_id, role, start, end)
    activities: dict[str, tuple] = field(default_factory=dict)  # ext -> (id, links)

    @classmethod
    def load(cls, organiser: Organiser) -> Snapshot:
        snap = cls()
        for row in SchoolUnit.objects.filter(organiser=organiser).values_list(
            "external_id",
            "id",
            "name",
            "school_unit_code",
            "school_types",
            "municipality_code",
            "removed_at",
        ):
            snap.units[row[0]] = row[1:]
        for row in Person.objects.filter(organiser=organiser).values_list(
            "external_id",
            "id",
            "public_id",
            "given_name",
            "family_name",
            "civic_number",
            "birth_date",
            "eppn",
            "email",
            "protected_identity",
            "removed_at",
        ):
            snap.persons[row[0]] = row[1:]
        for row in TeachingGroup.objects.filter(school_unit__organiser=organiser).values_list(
            "external_id", "id", "school_unit_id", "name", "group_type"
        ):
            snap.groups[row[0]] = row[1:]
        for row in Duty.objects.filter(school_unit__organiser=organiser).values_list(
            "external_id",
            "id",
            "school_unit_id",
            "person_id",
            "duty_role",
            "start_date",
            "end_date",
        ):
            snap.duties[row[0]] = row[1:]
        for ext, pk, links in Activity.objects.filter(organiser=organiser).values_list(
            "external_id", "id", "links"
        ):
            snap.activities[ext] = (pk, links)
        return snap


class Transfer:
    """One run's check and apply. `check()` lists rejections; `apply()` writes (only if none)."""

    def __init__(
        self,
        *,
        organiser: Organiser,
        doc: Document,
        scope_unit: SchoolUnit | None = None,
        reason: str = "",
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.organiser = organiser
        self.doc = doc
        self.scope_unit = scope_unit
        self.reason = reason
        self.progress = progress or (lambda n: None)
        self.snap = Snapshot.load(organiser)
        self.counts = {k: Counts() for k in KIND_LABELS}
        self.changed_units: set[int] = set()
        self.now = timezone.now()
        self.staff_ids: set[int] = set()
        self.revoked_pairs: set[tuple[int, int]] = set()
        # (person id, school unit id) whose guardian permissions must be synced after the run.
        self.sync_pairs: set[tuple[int, int]] = set()
        self.moved_groups: dict[int, int] = {}
        # (person id, unit id, role) the transfer may grant in this run; see `_apply_roles`.
        self.granting: set[tuple[int, int, str]] = set()
        self._unit_pub: dict[int, uuid.UUID] | None = None
        self._person_pub: dict[int, uuid.UUID] | None = None

    # --- checks --------------------------------------------------------------------------------

    def check(self) -> None:
        doc, snap = self.doc, self.snap
        deleted = {k: set(v) for k, v in doc.deleted.items()}
        known_units = set(snap.units) | set(doc.units)
        known_persons = (set(snap.persons) | set(doc.persons)) - deleted.get("persons", set())
        known_groups = (set(snap.groups) | set(doc.groups)) - deleted.get("groups", set())
        known_duties = (set(snap.duties) | set(doc.duties)) - deleted.get("duties", set())
        scope_ext = self.scope_unit.external_id if self.scope_unit else None

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
        for chunk in _chunked(codes):
            for org_id, ext, code in SchoolUnit.objects.filter(
                school_unit_code__in=chunk
            ).values_list("organiser_id", "external_id", "school_unit_code"):
                if org_id != self.organiser.pk or ext != codes[code]:
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
        if scope_ext is not None:
            self._check_persons_in_scope()
        for chunk in _chunked(eppns):
            for org_id, ext, eppn in Person.objects.filter(eppn__in=chunk).values_list(
                "organiser_id", "external_id", "eppn"
            ):
                if org_id == self.organiser.pk and (
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
        unit_ext = self._unit_ext_of_id()
        self._check_members_enrolled(known_units, known_persons, unit_ext)
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
                    doc.reject(
                        "activities", ext, "groups", _("Unknown group %(id)s.") % {"id": gid}
                    )
            for did in activity["duties"]:
                if did not in known_duties:
                    doc.reject(
                        "activities", ext, "teachers", _("Unknown duty %(id)s.") % {"id": did}
                    )
        self._check_teachers_at_group_unit(known_units, known_groups, known_duties, unit_ext)

        stored = {
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
        self._check_logins()

    def _unit_ext_of_id(self) -> dict[int, str]:
        return {row[0]: ext for ext, row in self.snap.units.items()}

    def _check_members_enrolled(
        self, known_units: set[str], known_persons: set[str], unit_ext: dict[int, str]
    ) -> None:
        """A group's members must be enrolled at the group's school unit (after this run), so a
        group never shows one unit's students to another unit's staff."""
        doc = self.doc
        enrolled: dict[str, set[str]] = {
            ext: {unit for unit, _type, _year in person["enrolments"]}
            for ext, person in doc.persons.items()
        }
        members = {m for group in doc.groups.values() for m in group["members"]}
        need_stored = {m for m in members if m not in doc.persons}
        if self.scope_unit is not None:
            need_stored |= members & doc.persons.keys()
        if need_stored:
            scope_id = self.scope_unit.pk if self.scope_unit else None
            for person_ext, unit_id in Enrolment.objects.filter(
                person__organiser=self.organiser
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
                        _("Person %(id)s is not enrolled at the group's school unit.")
                        % {"id": member},
                    )

    def _check_teachers_at_group_unit(
        self,
        known_units: set[str],
        known_groups: set[str],
        known_duties: set[str],
        unit_ext: dict[int, str],
    ) -> None:
        """An activity's teachers must hold their duty at the school unit of each of its groups:
        a teacher never gets results access to another unit's group."""
        doc, snap = self.doc, self.snap

        def unit_of(ext: str, sent: dict[str, dict], stored: dict[str, tuple]) -> str | None:
            """The unit a record is at after this run: as sent, else as stored."""
            return sent[ext]["unit"] if ext in sent else unit_ext.get(stored[ext][1])

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

    def _check_persons_in_scope(self) -> None:
        """A school's upload may only touch persons already at that unit, or new ones."""
        unit_id = self.scope_unit.pk
        stored_ids = {
            self.snap.persons[e][0]: e for e in self.doc.persons if e in self.snap.persons
        }
        if not stored_ids:
            return
        at_unit = set(
            Enrolment.objects.filter(
                school_unit__organiser=self.organiser, school_unit_id=unit_id
            ).values_list("person_id", flat=True)
        ) | set(Duty.objects.filter(school_unit_id=unit_id).values_list("person_id", flat=True))
        for pid, ext in stored_ids.items():
            if pid not in at_unit:
                self.doc.reject("persons", ext, "id", _("Belongs to another school unit."))

    def _check_logins(self) -> None:
        """Staff get a login named by their eppn; it must not belong to someone else."""
        staff = {d["person"] for d in self.doc.duties.values()}
        staff |= {
            ext
            for ext, row in self.snap.persons.items()
            if ext in self.doc.persons and row[0] in self._stored_staff_person_ids()
        }
        wanted = {self.doc.persons[e]["eppn"]: e for e in staff if e in self.doc.persons}
        for chunk in _chunked(wanted):
            for username, person_id in User.objects.filter(username__in=chunk).values_list(
                "username", "person_id"
            ):
                ext = wanted[username]
                stored = self.snap.persons.get(ext)
                if stored is None or person_id != stored[0]:
                    self.doc.reject(
                        "persons",
                        ext,
                        "eduPersonPrincipalNames",
                        "A login with this eppn belongs to someone else.",
                    )

    def _stored_staff_person_ids(self) -> set[int]:
        if not hasattr(self, "_stored_staff"):
            self._stored_staff = {row[2] for row in self.snap.duties.values()}
        return self._stored_staff

    # --- apply ---------------------------------------------------------------------------------

    def apply(self) -> None:
        unit_ids = self._apply_units()
        person_ids = self._apply_persons()
        self._apply_enrolments(person_ids, unit_ids)
        group_ids = self._apply_groups(unit_ids)
        self._apply_memberships(group_ids, person_ids)
        duty_ids = self._apply_duties(unit_ids, person_ids)
        self._apply_teachers(group_ids, duty_ids)
        self._store_activities(group_ids, duty_ids)
        removed_persons = self._apply_deletions()
        self._resync_moved_groups()
        self._drop_teachers_without_duty()
        self._apply_users(removed_persons)
        self._apply_roles(removed_persons)

    def _apply_units(self) -> dict[str, int]:
        snap, counts = self.snap, self.counts["school_units"]
        rows = []
        for ext, unit in self.doc.units.items():
            values = (
                unit["name"],
                unit["school_unit_code"],
                unit["school_types"],
                unit["municipality_code"],
                None,
            )
            stored = snap.units.get(ext)
            if stored is not None and tuple(stored[1:]) == values:
                counts.unchanged += 1
                continue
            if stored is None:
                counts.created += 1
            else:
                counts.updated += 1
                self.changed_units.add(stored[0])
            rows.append(
                SchoolUnit(
                    organiser=self.organiser,
                    external_id=ext,
                    name=values[0],
                    school_unit_code=values[1],
                    school_types=values[2],
                    municipality_code=values[3],
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
        ids = {ext: row[0] for ext, row in snap.units.items()}
        if counts.created:
            ids = dict(
                SchoolUnit.objects.filter(organiser=self.organiser).values_list("external_id", "id")
            )
            self.changed_units |= {ids[e] for e in self.doc.units if e not in snap.units}
        self.progress(len(self.doc.units))
        return ids

    def _apply_persons(self) -> dict[str, int]:
        snap, counts = self.snap, self.counts["persons"]
        fields = (
            "given_name",
            "family_name",
            "civic_number",
            "birth_date",
            "eppn",
            "email",
            "protected_identity",
        )
        rows, changed_eppn = [], []
        self.updated_person_ids: set[int] = set()
        # Persons the organiser removed earlier and sends again come back with their login.
        self.reactivated = {
            snap.persons[e][0]
            for e in self.doc.persons
            if e in snap.persons and snap.persons[e][-1] is not None
        }
        for ext, person in self.doc.persons.items():
            values = (*(person[f] for f in fields), None)
            stored = snap.persons.get(ext)
            if stored is not None and tuple(stored[2:]) == values:
                counts.unchanged += 1
                continue
            if stored is None:
                counts.created += 1
            else:
                counts.updated += 1
                self.updated_person_ids.add(stored[0])
                if stored[6] != person["eppn"]:
                    changed_eppn.append(stored[0])
            rows.append(
                Person(
                    organiser=self.organiser,
                    external_id=ext,
                    removed_at=None,
                    **{f: person[f] for f in fields},
                )
            )
        if changed_eppn:
            # Free the old eppns first so that two persons may swap theirs within one run.
            for chunk in _chunked(changed_eppn):
                Person.objects.filter(id__in=chunk).update(eppn="")
        bulk_insert(
            Person,
            rows,
            unique_fields=["organiser", "external_id"],
            update_fields=[*fields, "removed_at", "modified"],
        )
        ids = {ext: row[0] for ext, row in snap.persons.items()}
        if counts.created:
            ids = dict(
                Person.objects.filter(organiser=self.organiser).values_list("external_id", "id")
            )
        self.progress(len(self.doc.persons))
        return ids

    def _apply_enrolments(self, person_ids: dict[str, int], unit_ids: dict[str, int]) -> None:
        counts = self.counts["enrolments"]
        sent_persons = {person_ids[ext] for ext in self.doc.persons}
        if not sent_persons:
            return
        existing: dict[tuple[int, int], tuple] = {}
        for pk, pid, uid, school_type, year in Enrolment.objects.filter(
            person__organiser=self.organiser
        ).values_list("id", "person_id", "school_unit_id", "school_type", "school_year"):
            if pid in sent_persons:
                existing[(pid, uid)] = (pk, school_type, year)
        wanted: dict[tuple[int, int], tuple] = {}
        for ext, person in self.doc.persons.items():
            for unit_ext, school_type, year in person["enrolments"]:
                wanted[(person_ids[ext], unit_ids[unit_ext])] = (school_type, year)
        rows = []
        for (pid, uid), (school_type, year) in wanted.items():
            stored = existing.get((pid, uid))
            if stored is not None and stored[1:] == (school_type, year):
                counts.unchanged += 1
                continue
            if stored is None:
                counts.created += 1
            else:
                counts.updated += 1
            self.changed_units.add(uid)
            rows.append(
                Enrolment(
                    person_id=pid, school_unit_id=uid, school_type=school_type, school_year=year
                )
            )
        bulk_insert(
            Enrolment,
            rows,
            unique_fields=["person", "school_unit"],
            update_fields=["school_type", "school_year", "modified"],
        )
        scope_id = self.scope_unit.pk if self.scope_unit else None
        stale = [
            (pk, uid)
            for (pid, uid), (pk, *_rest) in existing.items()
            if (pid, uid) not in wanted and (scope_id is None or uid == scope_id)
        ]
        for chunk in _chunked([pk for pk, _uid in stale]):
            Enrolment.objects.filter(id__in=chunk).delete()
        counts.removed += len(stale)
        self.changed_units |= {uid for _pk, uid in stale}
        # A person whose name or marking changed changes every unit they belong to.
        for pid, uid in set(existing) | set(wanted):
            if pid in self.updated_person_ids:
                self.changed_units.add(uid)

    def _count_change(self, counts, stored, values: tuple, moved: list, model) -> bool:
        """Count a record against its stored row (id, unit, ...); False when nothing changed.

        `values` starts with the unit. A record that moved to another unit is queued in `moved`,
        and both units are marked as changed (their readiness and late-change flags depend on it).
        """
        if stored is not None and tuple(stored[1:]) == values:
            counts.unchanged += 1
            return False
        uid = values[0]
        if stored is None:
            counts.created += 1
        else:
            counts.updated += 1
            if stored[1] != uid:
                moved.append(model(id=stored[0], school_unit_id=uid))
                self.changed_units.add(stored[1])
        self.changed_units.add(uid)
        return True

    def _apply_groups(self, unit_ids: dict[str, int]) -> dict[str, int]:
        snap, counts = self.snap, self.counts["groups"]
        rows, moved = [], []
        for ext, group in self.doc.groups.items():
            uid = unit_ids[group["unit"]]
            stored = snap.groups.get(ext)
            values = (uid, group["name"], group["group_type"])
            if not self._count_change(counts, stored, values, moved, TeachingGroup):
                continue
            rows.append(
                TeachingGroup(
                    school_unit_id=uid,
                    external_id=ext,
                    name=group["name"],
                    group_type=group["group_type"],
                )
            )
        self.moved_groups = {group.id: group.school_unit_id for group in moved}
        if moved:
            TeachingGroup.objects.bulk_update(moved, ["school_unit"], batch_size=ORM_BATCH)
        TeachingGroup.objects.bulk_create(
            rows,
            batch_size=ORM_BATCH,
            update_conflicts=True,
            unique_fields=["school_unit", "external_id"],
            update_fields=["name", "group_type", "modified"],
        )
        ids = {ext: row[0] for ext, row in snap.groups.items()}
        if counts.created:
            ids = dict(
                TeachingGroup.objects.filter(school_unit__organiser=self.organiser).values_list(
                    "external_id", "id"
                )
            )
        if counts.created or moved:
            self.group_units = dict(
                TeachingGroup.objects.filter(school_unit__organiser=self.organiser).values_list(
                    "id", "school_unit_id"
                )
            )
        else:
            self.group_units = {row[0]: row[1] for row in snap.groups.values()}
        self.progress(len(self.doc.groups))
        return ids

    def _apply_memberships(self, group_ids: dict[str, int], person_ids: dict[str, int]) -> None:
        counts = self.counts["group_members"]
        sent = {group_ids[ext] for ext in self.doc.groups}
        if not sent:
            return
        existing: dict[tuple[int, int], int] = {}
        for pk, gid, pid in GroupMembership.objects.filter(
            group__school_unit__organiser=self.organiser
        ).values_list("id", "group_id", "person_id"):
            if gid in sent:
                existing[(gid, pid)] = pk
        wanted = {
            (group_ids[ext], person_ids[member])
            for ext, group in self.doc.groups.items()
            for member in group["members"]
        }
        new = wanted - existing.keys()
        stale = [pk for key, pk in existing.items() if key not in wanted]
        bulk_insert(GroupMembership, [GroupMembership(group_id=g, person_id=p) for g, p in new])
        for chunk in _chunked(stale):
            GroupMembership.objects.filter(id__in=chunk).delete()
        counts.created += len(new)
        counts.removed += len(stale)
        counts.unchanged += len(wanted) - len(new)
        self.changed_units |= {self.group_units[g] for g, _p in new}
        removed = set(stale)
        self.changed_units |= {
            self.group_units[g] for (g, _p), pk in existing.items() if pk in removed
        }

    def _apply_duties(self, unit_ids: dict[str, int], person_ids: dict[str, int]) -> dict[str, int]:
        snap, counts = self.snap, self.counts["duties"]
        rows, moved = [], []
        for ext, duty in self.doc.duties.items():
            uid, pid = unit_ids[duty["unit"]], person_ids[duty["person"]]
            values = (uid, pid, duty["duty_role"], duty["start_date"], duty["end_date"])
            stored = snap.duties.get(ext)
            if not self._count_change(counts, stored, values, moved, Duty):
                continue
            if stored is None or tuple(stored[1:4]) != values[:3]:
                # A new duty, or one whose unit, person or duty role changed, grants its role.
                self.granting.add((pid, uid, role_for_duty(values[2]).value))
            rows.append(
                Duty(
                    school_unit_id=uid,
                    person_id=pid,
                    external_id=ext,
                    duty_role=values[2],
                    start_date=values[3],
                    end_date=values[4],
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
        self.duties_changed = bool(rows)
        ids = {ext: row[2] for ext, row in snap.duties.items()}  # duty ext -> person id
        for ext, duty in self.doc.duties.items():
            ids[ext] = person_ids[duty["person"]]
        self.progress(len(self.doc.duties))
        return ids

    def _apply_teachers(self, group_ids: dict[str, int], duty_person: dict[str, int]) -> None:
        """Activities name the teachers of groups: a group an activity names gets exactly the
        teachers of the activities naming it in this run."""
        counts = self.counts["group_teachers"]
        wanted: dict[int, set[int]] = defaultdict(set)
        for activity in self.doc.activities.values():
            teachers = {duty_person[d] for d in activity["duties"]}
            for gext in activity["groups"]:
                wanted[group_ids[gext]] |= teachers
        self.teacher_pairs: set[tuple[int, int]] = set()
        if not wanted:
            self.progress(len(self.doc.activities))
            return
        through = TeachingGroup.teachers.through
        existing: dict[tuple[int, int], int] = {}
        for pk, gid, pid in through.objects.filter(
            teachinggroup__school_unit__organiser=self.organiser
        ).values_list("id", "teachinggroup_id", "person_id"):
            if gid in wanted:
                existing[(gid, pid)] = pk
        wanted_pairs = {(g, p) for g, ps in wanted.items() for p in ps}
        new = wanted_pairs - existing.keys()
        stale = {key: pk for key, pk in existing.items() if key not in wanted_pairs}
        through.objects.bulk_create(
            [through(teachinggroup_id=g, person_id=p) for g, p in new], batch_size=ORM_BATCH
        )
        for chunk in _chunked(stale.values()):
            through.objects.filter(id__in=chunk).delete()
        counts.created += len(new)
        counts.removed += len(stale)
        counts.unchanged += len(wanted_pairs) - len(new)
        for g, p in new | set(stale):
            self.changed_units.add(self.group_units[g])
            self.teacher_pairs.add((p, self.group_units[g]))
        self.progress(len(self.doc.activities))

    def _store_activities(self, group_ids: dict[str, int], duty_person: dict[str, int]) -> None:
        """Remember which teacher links each activity gave; only new or changed rows are written.

        `activity_links` holds every activity's links as stored after this (ext -> links)."""
        counts = self.counts["activities"]
        rows = []
        self.activity_links = {ext: row[1] for ext, row in self.snap.activities.items()}
        for ext, activity in self.doc.activities.items():
            links = sorted(
                {
                    (group_ids[g], duty_person[d])
                    for g in activity["groups"]
                    for d in activity["duties"]
                }
            )
            links = [list(link) for link in links]
            self.activity_links[ext] = links
            stored = self.snap.activities.get(ext)
            if stored is not None and stored[1] == links:
                counts.unchanged += 1
                continue
            if stored is None:
                counts.created += 1
            else:
                counts.updated += 1
            rows.append(Activity(organiser=self.organiser, external_id=ext, links=links))
        Activity.objects.bulk_create(
            rows,
            batch_size=ORM_BATCH,
            update_conflicts=True,
            unique_fields=["organiser", "external_id"],
            update_fields=["links", "modified"],
        )

    def _delete_activities(self) -> None:
        """A deleted activity takes away the teacher links it gave, unless another stored activity
        still gives the same link; the group-level permissions follow (audited)."""
        exts = self.doc.deleted.get("activities", [])
        if not exts:
            return
        gone = {tuple(link) for ext in exts for link in self.snap.activities[ext][1]}
        deleting = set(exts)
        kept = {
            tuple(link)
            for ext, links in self.activity_links.items()
            if ext not in deleting
            for link in links
        }
        Activity.objects.filter(organiser=self.organiser, external_id__in=exts).delete()
        self.counts["activities"].removed += len(exts)
        through = TeachingGroup.teachers.through
        wanted_gone = gone - kept
        stale = [
            (pk, gid, pid)
            for pk, gid, pid in through.objects.filter(
                teachinggroup_id__in={g for g, _p in wanted_gone}
            ).values_list("id", "teachinggroup_id", "person_id")
            if (gid, pid) in wanted_gone
        ]
        # `group_units` (from `_apply_groups`) holds every group: none is deleted before this.
        unit_of = self.group_units
        self._remove_teacher_links(stale, unit_before=unit_of, unit_after=unit_of)
        self.sync_pairs |= {(pid, unit_of[gid]) for _pk, gid, pid in stale}
        self.changed_units |= {unit_of[gid] for _pk, gid, _pid in stale}

    def _remove_teacher_links(
        self,
        stale: list[tuple[int, int, int]],
        *,
        unit_before: dict[int, int],
        unit_after: dict[int, int],
    ) -> None:
        """Delete these (link id, group id, person id) teacher links, counted and audited with
        each group's school unit before and after the run."""
        through = TeachingGroup.teachers.through
        for chunk in _chunked([pk for pk, _g, _p in stale]):
            through.objects.filter(id__in=chunk).delete()
        self.counts["group_teachers"].removed += len(stale)
        if stale:
            self._audit_teacher_removals(
                [(gid, pid, unit_before[gid], unit_after[gid]) for _pk, gid, pid in stale]
            )

    def _audit_teacher_removals(self, removals: list[tuple[int, int, int, int]]) -> None:
        """One `group.teacher_remove` row per (group, person, unit before, unit after)."""
        unit_pub = self._unit_public_ids()
        group_pub = dict(
            TeachingGroup.objects.filter(id__in={g for g, _p, _b, _a in removals}).values_list(
                "id", "public_id"
            )
        )
        person_pub = self._person_public_ids({p for _g, p, _b, _a in removals})
        audit_record_many(
            [
                {
                    "action": AuditAction.GROUP_TEACHER_REMOVE,
                    "target": Person(id=pid, public_id=person_pub[pid]),
                    "scope": unit_pub[before],
                    "before": {
                        "group": str(group_pub[gid]),
                        "school_unit": str(unit_pub[before]),
                        "teacher": True,
                    },
                    "after": {
                        "group": str(group_pub[gid]),
                        "school_unit": str(unit_pub[after]),
                        "teacher": False,
                    },
                    "reason": self.reason,
                }
                for gid, pid, before, after in sorted(removals, key=lambda r: (r[1], r[0]))
            ]
        )

    def _apply_deletions(self) -> list[int]:
        snap, deleted = self.snap, self.doc.deleted
        self._delete_activities()
        duty_ids = [snap.duties[e][0] for e in deleted.get("duties", [])]
        for chunk in _chunked(duty_ids):
            Duty.objects.filter(id__in=chunk).delete()
        self.counts["duties"].removed += len(duty_ids)
        self.changed_units |= {snap.duties[e][1] for e in deleted.get("duties", [])}
        if duty_ids:
            self.duties_changed = True

        group_ids = [snap.groups[e][0] for e in deleted.get("groups", [])]
        for chunk in _chunked(group_ids):
            TeachingGroup.objects.filter(id__in=chunk).delete()
        self.counts["groups"].removed += len(group_ids)
        self.changed_units |= {snap.groups[e][1] for e in deleted.get("groups", [])}

        units = [
            snap.units[e] for e in deleted.get("organisations", []) if snap.units[e][5] is None
        ]
        SchoolUnit.objects.filter(id__in=[u[0] for u in units]).update(
            removed_at=self.now, modified=self.now
        )
        self.counts["school_units"].removed += len(units)
        self.changed_units |= {u[0] for u in units}

        removed = [
            snap.persons[e] for e in deleted.get("persons", []) if snap.persons[e][-1] is None
        ]
        removed_ids = [row[0] for row in removed]
        if removed_ids:
            Person.objects.filter(id__in=removed_ids).update(removed_at=self.now, modified=self.now)
            GroupMembership.objects.filter(person_id__in=removed_ids).delete()
            TeachingGroup.teachers.through.objects.filter(person_id__in=removed_ids).delete()
            self.changed_units |= set(
                Enrolment.objects.filter(person_id__in=removed_ids).values_list(
                    "school_unit_id", flat=True
                )
            ) | set(
                Duty.objects.filter(person_id__in=removed_ids).values_list(
                    "school_unit_id", flat=True
                )
            )
            # Roles go, audited; the person row and their test history stay.
            self._revoke_roles(removed_ids)
            public_ids = {row[0]: row[1] for row in removed}
            audit_record_many(
                [
                    {
                        "action": AuditAction.PERSON_REMOVE,
                        "target": Person(id=pid, public_id=public_ids[pid]),
                        "reason": self.reason,
                    }
                    for pid in removed_ids
                ]
            )
        self.counts["persons"].removed += len(removed_ids)
        self.progress(sum(len(v) for v in deleted.values()))
        return removed_ids

    def _resync_moved_groups(self) -> None:
        """A group that moved to another school unit keeps only the teachers who hold a duty at
        its new unit; the others lose the teacher link and the group-level results permission
        it gave (audited). Everyone who held either is re-synced at the group's new unit."""
        if not self.moved_groups:
            return
        gids = list(self.moved_groups)
        new_units = set(self.moved_groups.values())
        on_duty = set(
            Duty.objects.filter(
                school_unit_id__in=new_units, person__removed_at__isnull=True
            ).values_list("person_id", "school_unit_id")
        )
        through = TeachingGroup.teachers.through
        links = list(
            through.objects.filter(teachinggroup_id__in=gids).values_list(
                "id", "teachinggroup_id", "person_id"
            )
        )
        stale = [
            (pk, gid, pid) for pk, gid, pid in links if (pid, self.moved_groups[gid]) not in on_duty
        ]
        old_unit = {row[0]: row[1] for row in self.snap.groups.values()}
        self._remove_teacher_links(stale, unit_before=old_unit, unit_after=self.moved_groups)
        holders = set(
            TeachingGroupUserObjectPermission.objects.filter(
                content_object_id__in=gids, user__person__isnull=False
            ).values_list("user__person_id", "content_object_id")
        )
        self.sync_pairs |= {(pid, self.moved_groups[gid]) for pid, gid in holders}
        self.sync_pairs |= {(pid, self.moved_groups[gid]) for _pk, gid, pid in links}

    def _drop_teachers_without_duty(self) -> None:
        """A teacher whose duty moved to another unit (or ended) is no longer the teacher of the
        old unit's groups: the link and the group-level results permission go (audited), so a
        role given there later cannot bring the group back."""
        if not self.duties_changed:
            return
        on_duty = set(
            Duty.objects.filter(
                school_unit__organiser=self.organiser, person__removed_at__isnull=True
            ).values_list("person_id", "school_unit_id")
        )
        through = TeachingGroup.teachers.through
        stale, unit_of = [], {}
        for pk, gid, pid, uid in through.objects.filter(
            teachinggroup__school_unit__organiser=self.organiser
        ).values_list("id", "teachinggroup_id", "person_id", "teachinggroup__school_unit_id"):
            if (pid, uid) not in on_duty:
                stale.append((pk, gid, pid))
                unit_of[gid] = uid
        if not stale:
            return
        self._remove_teacher_links(stale, unit_before=unit_of, unit_after=unit_of)
        self.sync_pairs |= {(pid, unit_of[gid]) for _pk, gid, pid in stale}
        self.changed_units |= {unit_of[gid] for _pk, gid, _pid in stale}

    def _revoke_roles(self, person_ids: list[int]) -> None:
        """Every role of the removed persons goes, set-based, with one `role.revoke_all` audit
        row per person and school unit (the same rows `services.roles_revoke_all` writes)."""
        held: dict[tuple[int, int], set[str]] = defaultdict(set)
        assignment_ids = []
        for chunk in _chunked(person_ids):
            for pk, pid, uid, role in RoleAssignment.objects.filter(
                person_id__in=chunk
            ).values_list("id", "person_id", "school_unit_id", "role"):
                held[(pid, uid)].add(role)
                assignment_ids.append(pk)
        for chunk in _chunked(assignment_ids):
            RoleAssignment.objects.filter(id__in=chunk).delete()
        self.counts["roles"].removed += len(assignment_ids)
        self.revoked_pairs = set(held)
        if not held:
            return
        person_pub = self._person_public_ids({p for p, _u in held})
        unit_pub = self._unit_public_ids()
        audit_record_many(
            [
                {
                    "action": AuditAction.ROLE_REVOKE_ALL,
                    "target": Person(id=p, public_id=person_pub[p]),
                    "scope": unit_pub[u],
                    "before": sorted(roles),
                    "after": [],
                    "reason": self.reason,
                }
                for (p, u), roles in sorted(held.items())
            ]
        )

    def _apply_users(self, removed_ids: list[int]) -> None:
        """Staff get a login (username = eppn, no usable password until SSO or a reset)."""
        counts = self.counts["users"]
        staff = {
            pid
            for pid in Duty.objects.filter(
                school_unit__organiser=self.organiser, person__removed_at__isnull=True
            ).values_list("person_id", flat=True)
        }
        self.staff_ids = staff
        users = {
            pid: (uid, username, active)
            for uid, pid, username, active in User.objects.filter(
                person__organiser=self.organiser
            ).values_list("id", "person_id", "username", "is_active")
        }
        old_eppn = {row[0]: row[6] for row in self.snap.persons.values()}
        eppn_of = dict(old_eppn)
        for ext, person in self.doc.persons.items():
            stored = self.snap.persons.get(ext)
            if stored is not None:
                eppn_of[stored[0]] = person["eppn"]
        missing = staff - users.keys()
        if missing:
            new_ids = dict(Person.objects.filter(id__in=list(missing)).values_list("id", "eppn"))
            User.objects.bulk_create(
                [
                    User(username=new_ids[pid], person_id=pid, password=make_password(None))
                    for pid in missing
                    if new_ids.get(pid)
                ],
                batch_size=ORM_BATCH,
            )
            counts.created += len(missing)
            self.new_user_persons = missing
        else:
            self.new_user_persons = set()
        changed = []
        removed = set(removed_ids)
        for pid, (uid, username, active) in users.items():
            want_active = pid not in removed and (active or pid in self.reactivated)
            # Rename only logins the transfer named (username = the old eppn).
            want_name = eppn_of.get(pid) if username == old_eppn.get(pid) else username
            want_name = want_name or username
            if pid in removed and active:
                counts.removed += 1
            elif (want_active, want_name) != (active, username):
                counts.updated += 1
            else:
                counts.unchanged += 1
                continue
            changed.append(User(id=uid, username=want_name, is_active=want_active))
        if changed:
            User.objects.bulk_update(changed, ["username", "is_active"], batch_size=ORM_BATCH)

    def _apply_roles(self, removed_ids: list[int]) -> None:
        """Roles from duties (source TRANSFER); a person without a duty at a unit holds no role
        there; manual roles of transferred staff stay. Changes are audited per person and unit.

        A role is granted only from a duty created in this run or whose unit, person or duty
        role changed, or for a person or unit that comes back: a role the school took away from
        an unchanged duty stays away, whatever else the run changes."""
        counts = self.counts["roles"]
        restored_units = {
            row[0]
            for ext, row in self.snap.units.items()
            if row[5] is not None and ext in self.doc.units
        }
        sync_pairs = (
            set(self.teacher_pairs)
            | self.sync_pairs
            | self.revoked_pairs
            | {pair for pair in self._held_pairs() if pair[0] in self.new_user_persons}
        )
        units_removed = self.counts["school_units"].removed
        if (
            self.duties_changed
            or removed_ids
            or self.reactivated
            or units_removed
            or restored_units
        ):
            removed_units = set(
                SchoolUnit.objects.filter(
                    organiser=self.organiser, removed_at__isnull=False
                ).values_list("id", flat=True)
            )
            desired: set[tuple[int, int, str]] = set()
            duty_pairs: set[tuple[int, int]] = set()
            for pid, uid, duty_role in Duty.objects.filter(
                school_unit__organiser=self.organiser, person__removed_at__isnull=True
            ).values_list("person_id", "school_unit_id", "duty_role"):
                if uid not in removed_units:
                    desired.add((pid, uid, role_for_duty(duty_role).value))
                    duty_pairs.add((pid, uid))
            existing: dict[tuple[int, int, str], tuple[int, str]] = {}
            for pk, pid, uid, role, source in RoleAssignment.objects.filter(
                school_unit__organiser=self.organiser
            ).values_list("id", "person_id", "school_unit_id", "role", "source"):
                existing[(pid, uid, role)] = (pk, source)
            new = {
                key
                for key in desired - existing.keys()
                if key in self.granting or key[0] in self.reactivated or key[1] in restored_units
            }
            stale = {
                key: pk
                for key, (pk, source) in existing.items()
                if key not in desired
                and (source == RoleSource.TRANSFER or (key[0], key[1]) not in duty_pairs)
            }
            if new or stale:
                before: dict[tuple[int, int], set[str]] = defaultdict(set)
                for pid, uid, role in existing:
                    before[(pid, uid)].add(role)
                touched = {(p, u) for p, u, _r in new} | {(p, u) for p, u, _r in stale}
                RoleAssignment.objects.bulk_create(
                    [
                        RoleAssignment(
                            person_id=p, school_unit_id=u, role=r, source=RoleSource.TRANSFER
                        )
                        for p, u, r in new
                    ],
                    batch_size=ORM_BATCH,
                )
                for chunk in _chunked(stale.values()):
                    RoleAssignment.objects.filter(id__in=chunk).delete()
                after = {pair: set(roles) for pair, roles in before.items()}
                for p, u, r in new:
                    after.setdefault((p, u), set()).add(r)
                for p, u, r in stale:
                    after[(p, u)].discard(r)
                self._audit_roles(touched, before, after)
                sync_pairs |= touched
            counts.created += len(new)
            counts.removed += len(stale)
            counts.unchanged += len(desired) - len(new)
        permissions_sync_many(pairs=sync_pairs)

    def _held_pairs(self) -> set[tuple[int, int]]:
        if not self.new_user_persons:
            return set()
        return set(
            RoleAssignment.objects.filter(person_id__in=list(self.new_user_persons)).values_list(
                "person_id", "school_unit_id"
            )
        )

    def _audit_roles(self, touched, before, after) -> None:
        person_pub = self._person_public_ids({p for p, _u in touched})
        unit_pub = self._unit_public_ids()
        audit_record_many(
            [
                {
                    "action": AuditAction.ROLE_TRANSFER_SYNC,
                    "target": Person(id=p, public_id=person_pub[p]),
                    "scope": unit_pub[u],
                    "before": sorted(before.get((p, u), ())),
                    "after": sorted(after.get((p, u), ())),
                    "reason": self.reason,
                }
                for p, u in sorted(touched)
            ]
        )

    def _unit_public_ids(self) -> dict[int, uuid.UUID]:
        """Public ids of the organiser's school units, read once (units are written first)."""
        if self._unit_pub is None:
            self._unit_pub = dict(
                SchoolUnit.objects.filter(organiser=self.organiser).values_list("id", "public_id")
            )
        return self._unit_pub

    def _person_public_ids(self, ids: set[int]) -> dict[int, uuid.UUID]:
        """Public ids of these persons: from the snapshot, querying only persons new in this run."""
        if self._person_pub is None:
            self._person_pub = {row[0]: row[1] for row in self.snap.persons.values()}
        missing = ids - self._person_pub.keys()
        if missing:
            self._person_pub.update(
                Person.objects.filter(id__in=list(missing)).values_list("id", "public_id")
            )
        return {pid: self._person_pub[pid] for pid in ids if pid in self._person_pub}

    # --- report --------------------------------------------------------------------------------

    def flags(self, *, first_transfer: bool) -> list[dict]:
        """Late data is flagged, never refused: per school unit with an upcoming sitting."""
        sittings = hooks.upcoming_sittings(self.organiser)
        if not sittings:
            return []
        limit_days = (
            settings.TRANSFER_FIRST_MIN_DAYS
            if first_transfer
            else settings.TRANSFER_UPDATE_MIN_DAYS
        )
        units = {row[0]: (ext, row[1]) for ext, row in self.snap.units.items()}
        if len(units) < len(sittings) or self.counts["school_units"].created:
            units = {
                uid: (ext, name)
                for uid, ext, name in SchoolUnit.objects.filter(
                    organiser=self.organiser
                ).values_list("id", "external_id", "name")
            }
        result = []
        for unit_id, starts_at in sorted(sittings.items(), key=lambda item: item[1]):
            if unit_id not in units:
                continue
            if not first_transfer and unit_id not in self.changed_units:
                continue
            if starts_at - self.now >= datetime.timedelta(days=limit_days):
                continue
            days = max((starts_at - self.now).days, 0)
            ext, name = units[unit_id]
            result.append(
                {
                    "code": "first_transfer_late" if first_transfer else "late_change",
                    "school_unit": ext,
                    "school_unit_name": name,
                    "sitting_at": starts_at.isoformat(),
                    "days_before": days,
                    "limit_days": limit_days,
                }
            )
        return result

    def report_counts(self) -> dict[str, dict[str, int]]:
        return {k: c.as_dict() for k, c in self.counts.items()}
