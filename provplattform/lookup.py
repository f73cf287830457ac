"""Looking an object up by an id that came from input: one place decides that a malformed id is
as unknown as a missing one (404), never a server error."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TypeVar

from django.db.models import Model, QuerySet

from provplattform.errors import NotFound, get_or_not_found

M = TypeVar("M", bound=Model)


def parse_public_id(value: object) -> uuid.UUID | None:
    """The UUID in `value`, or None when it is not one (`not-a-uuid`, a number, a list)."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def parse_public_ids(values: Iterable[object]) -> list[uuid.UUID]:
    """The well-formed UUIDs among `values`; the rest are simply unknown."""
    return [parsed for value in values if (parsed := parse_public_id(value)) is not None]


def get_by_public_id(queryset: QuerySet[M], public_id: object, message: object = "") -> M:
    """The object of `queryset` (already scoped to the actor) with that public id; otherwise
    `NotFound`, the same for a missing, a malformed and an out-of-scope id."""
    parsed = parse_public_id(public_id)
    if parsed is None:
        raise NotFound(message)
    return get_or_not_found(queryset, message, public_id=parsed)
