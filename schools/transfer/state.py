"""The state of one transfer run, shared by its steps: check, apply, access and report.

`RunState.begin` creates it with the snapshot of what is stored; each step reads the fields the
steps before it filled in (the order is `apply.apply_document`'s).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.utils import timezone

from schools.models import Organiser, Person, SchoolUnit
from schools.transfer.document import Document
from schools.transfer.snapshot import Snapshot

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

# (person id, school unit id)
PersonUnit = tuple[int, int]


class RoleKey(NamedTuple):
    person_id: int
    school_unit_id: int
    role: str


@dataclass(slots=True)
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


def _no_progress(_done: int) -> None:
    return None


@dataclass(slots=True)
class RunState:
    """One run: what it was given, what was stored, and what its steps found and changed."""

    organiser: Organiser
    doc: Document
    snap: Snapshot
    now: datetime.datetime
    scope_unit: SchoolUnit | None = None
    reason: str = ""
    progress: Callable[[int], None] = _no_progress
    counts: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KIND_LABELS})
    # School units whose data changed (late-change flags).
    changed_units: set[int] = field(default_factory=set)
    # Persons whose stored fields changed, and removed persons sent again (they come back).
    updated_person_ids: set[int] = field(default_factory=set)
    reactivated: set[int] = field(default_factory=set)
    # Every group's school unit after the groups are written; groups that moved: id -> new unit.
    group_units: dict[int, int] = field(default_factory=dict)
    moved_groups: dict[int, int] = field(default_factory=dict)
    duties_changed: bool = False
    # Roles the transfer may grant in this run; see `access.apply_roles`.
    granting: set[RoleKey] = field(default_factory=set)
    # (teacher, the group's unit) of every teacher link added or removed by activities.
    teacher_pairs: set[PersonUnit] = field(default_factory=set)
    # Every activity's links as stored after the run (ext -> [[group id, person id], ...]).
    activity_links: dict[str, list[list[int]]] = field(default_factory=dict)
    # Pairs whose roles removed persons lost, and pairs whose guardian permissions are synced.
    revoked_pairs: set[PersonUnit] = field(default_factory=set)
    sync_pairs: set[PersonUnit] = field(default_factory=set)
    # Persons who got a login in this run.
    new_user_persons: set[int] = field(default_factory=set)
    _unit_pub: dict[int, uuid.UUID] | None = field(default=None, init=False, repr=False)
    _person_pub: dict[int, uuid.UUID] | None = field(default=None, init=False, repr=False)

    @classmethod
    def begin(
        cls,
        *,
        organiser: Organiser,
        doc: Document,
        scope_unit: SchoolUnit | None = None,
        reason: str = "",
        progress: Callable[[int], None] | None = None,
    ) -> RunState:
        snap = Snapshot.load(organiser)
        return cls(
            organiser=organiser,
            doc=doc,
            snap=snap,
            now=timezone.now(),
            scope_unit=scope_unit,
            reason=reason,
            progress=progress or _no_progress,
        )

    def unit_public_ids(self) -> dict[int, uuid.UUID]:
        """Public ids of the organiser's school units, read once (units are written first)."""
        if self._unit_pub is None:
            self._unit_pub = dict(
                SchoolUnit.objects.filter(organiser=self.organiser).values_list("id", "public_id")
            )
        return self._unit_pub

    def person_public_ids(self, ids: set[int]) -> dict[int, uuid.UUID]:
        """Public ids of these persons: from the snapshot, querying only persons new in this run."""
        if self._person_pub is None:
            self._person_pub = {row.id: row.public_id for row in self.snap.persons.values()}
        missing = ids - self._person_pub.keys()
        if missing:
            self._person_pub.update(
                Person.objects.filter(id__in=list(missing)).values_list("id", "public_id")
            )
        return {pid: self._person_pub[pid] for pid in ids if pid in self._person_pub}
