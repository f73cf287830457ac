"""What the database can store of a transfer record, checked with the schema so that a record it
cannot store is rejected (naming the record and the field), never a run that fails.

The lengths are the models' own: each SS 12000 field is mapped to the model field that keeps it,
and its `max_length` is read from there, so the check and the columns cannot drift apart. Text
anywhere in a record must also be storable (no NUL, no lone surrogate: `provplattform.inputs`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from provplattform.inputs import text_problem
from schools.models import Activity, Duty, Enrolment, Person, SchoolUnit, TeachingGroup, User

# Record kind -> SS 12000 field path ("*" for every item of a list) -> (model, field) of each
# column that keeps it (a staff member's eppn is also their username).
STORED_FIELDS: dict[str, dict[str, tuple[tuple[type[models.Model], str], ...]]] = {
    "organisations": {
        "id": ((SchoolUnit, "external_id"),),
        "displayName": ((SchoolUnit, "name"),),
        "schoolUnitCode": ((SchoolUnit, "school_unit_code"),),
        "municipalityCode": ((SchoolUnit, "municipality_code"),),
    },
    "persons": {
        "id": ((Person, "external_id"),),
        "givenName": ((Person, "given_name"),),
        "familyName": ((Person, "family_name"),),
        "eduPersonPrincipalNames.*": ((Person, "eppn"), (User, "username")),
        "emails.*.value": ((Person, "email"),),
        "enrolments.*.schoolType": ((Enrolment, "school_type"),),
    },
    "groups": {
        "id": ((TeachingGroup, "external_id"),),
        "displayName": ((TeachingGroup, "name"),),
        "groupType": ((TeachingGroup, "group_type"),),
    },
    "duties": {
        "id": ((Duty, "external_id"),),
        "dutyRole": ((Duty, "duty_role"),),
    },
    "activities": {
        "id": ((Activity, "external_id"),),
    },
}


@cache
def max_length(columns: tuple[tuple[type[models.Model], str], ...]) -> int:
    """The shortest of the columns' lengths."""
    lengths = []
    for model, name in columns:
        field = model._meta.get_field(name)
        if not isinstance(field, models.Field) or field.max_length is None:
            raise TypeError(f"{model.__name__}.{name} is not a column with a length")
        lengths.append(field.max_length)
    return min(lengths)


def _values(node: Any, parts: list[str], path: str):
    """(path, value) for every value at `parts` below `node`."""
    if not parts:
        yield path, node
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from _values(item, rest, f"{path}.{index}")
    elif isinstance(node, dict) and head in node:
        yield from _values(node[head], rest, f"{path}.{head}" if path else head)


def _strings(node: Any, path: str = ""):
    """(path, text) for every string in the record, keys included, without recursion."""
    stack = [(path, node)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield where, str(key)
                stack.append((f"{where}.{key}" if where else str(key), item))
        elif isinstance(value, list):
            stack.extend((f"{where}.{i}", item) for i, item in enumerate(value))


def stored_value_errors(kind: str, record: Any) -> list[tuple[str, str]]:
    """(field path, message) for every value of the record the database could not store."""
    if not isinstance(record, dict):
        return []
    errors: list[tuple[str, str]] = []
    for where, text in _strings(record):
        if problem := text_problem(text):
            errors.append((where, problem))
    for path, columns in STORED_FIELDS.get(kind, {}).items():
        limit = max_length(columns)
        for where, value in _values(record, path.split("."), ""):
            if isinstance(value, str) and len(value.strip()) > limit:
                message = _("At most %(n)s characters.") % {"n": limit}
                errors.append((where, message))
    return errors
