"""Looking an object up by an id that came from input: one place decides that a malformed id is
as unknown as a missing one (404), never a server error."""

from __future__ import annotations

import uuid

from django.db.models import Model, QuerySet
from django.http import Http404

from provplattform.errors import NotFound


class LookupNotFound(NotFound, Http404):
    """`NotFound` for the API's refusal handler, and a 404 for pages and the consumers that
    already catch `Http404`."""


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


def parse_public_ids(values) -> list[uuid.UUID]:
    """The well-formed UUIDs among `values`; the rest are simply unknown."""
    return [parsed for value in values if (parsed := parse_public_id(value)) is not None]


def get_by_public_id(queryset: QuerySet, public_id: object, message: str = "Not found.") -> Model:
    """The object of `queryset` (already scoped to the actor) with that public id; otherwise 404,
    the same for a missing, a malformed and an out-of-scope id."""
    parsed = parse_public_id(public_id)
    if parsed is None:
        raise LookupNotFound(message)
    try:
        return queryset.get(public_id=parsed)
    except queryset.model.DoesNotExist as exc:
        raise LookupNotFound(message) from exc
