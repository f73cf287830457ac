"""What the organiser has stored before a transfer run, read with one query per table.

Each stored row is a named tuple whose fields are the model's own field names, so the query that
reads it and the code that compares it with an incoming record cannot drift apart.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import NamedTuple

from schools.models import Activity, Duty, Organiser, Person, SchoolUnit, TeachingGroup

# The person fields a transfer record sets, in the order `StoredPerson` holds them.
PERSON_FIELDS = (
    "given_name",
    "family_name",
    "civic_number",
    "birth_date",
    "eppn",
    "email",
    "protected_identity",
)

# The id of a row that is not stored yet, in a tuple that stands for the row as it will be.
NEW = 0


class StoredUnit(NamedTuple):
    id: int
    name: str
    school_unit_code: str
    school_types: list[str]
    municipality_code: str
    removed_at: datetime.datetime | None


class StoredPerson(NamedTuple):
    id: int
    public_id: uuid.UUID
    given_name: str
    family_name: str
    civic_number: str
    birth_date: datetime.date | None
    eppn: str
    email: str
    protected_identity: bool
    removed_at: datetime.datetime | None


class StoredGroup(NamedTuple):
    id: int
    school_unit_id: int
    name: str
    group_type: str


class StoredDuty(NamedTuple):
    id: int
    school_unit_id: int
    person_id: int
    duty_role: str
    start_date: datetime.date | None
    end_date: datetime.date | None


class StoredActivity(NamedTuple):
    id: int
    # The teacher links the activity gave, as [group id, person id] lists (JSON).
    links: list[list[int]]


@dataclass(slots=True)
class Snapshot:
    """Stored rows of the organiser by external id."""

    units: dict[str, StoredUnit] = field(default_factory=dict)
    persons: dict[str, StoredPerson] = field(default_factory=dict)
    groups: dict[str, StoredGroup] = field(default_factory=dict)
    duties: dict[str, StoredDuty] = field(default_factory=dict)
    activities: dict[str, StoredActivity] = field(default_factory=dict)

    @classmethod
    def load(cls, organiser: Organiser) -> Snapshot:
        units = SchoolUnit.objects.filter(organiser=organiser)
        persons = Person.objects.filter(organiser=organiser)
        groups = TeachingGroup.objects.filter(school_unit__organiser=organiser)
        duties = Duty.objects.filter(school_unit__organiser=organiser)
        activities = Activity.objects.filter(organiser=organiser)
        return cls(
            units={
                ext: StoredUnit(*row)
                for ext, *row in units.values_list("external_id", *StoredUnit._fields)
            },
            persons={
                ext: StoredPerson(*row)
                for ext, *row in persons.values_list("external_id", *StoredPerson._fields)
            },
            groups={
                ext: StoredGroup(*row)
                for ext, *row in groups.values_list("external_id", *StoredGroup._fields)
            },
            duties={
                ext: StoredDuty(*row)
                for ext, *row in duties.values_list("external_id", *StoredDuty._fields)
            },
            activities={
                ext: StoredActivity(*row)
                for ext, *row in activities.values_list("external_id", *StoredActivity._fields)
            },
        )
