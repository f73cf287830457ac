"""The one application error type: a request the rules refuse.

Services raise `Refused` (or a subclass); they never know HTTP and never raise `Http404`. The edge
maps it once: `provplattform.api_errors.exception_handler` for the API, and the page helpers for
views. The message is short, translated and safe to show to the person who asked.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Manager, Model, QuerySet
from django.utils.translation import gettext_lazy as _


class Refused(Exception):
    """A change or read the rules forbid; `str(exc)` is what the user sees."""

    status: int = 400
    code: str = "refused"

    def __init__(self, message: object = "", *, code: str | None = None, status: int | None = None):
        super().__init__(str(message) if message else str(self.default_message()))
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    @classmethod
    def default_message(cls) -> object:
        return _("The request was refused.")

    @property
    def message(self) -> str:
        return str(self)


class NotFound(Refused):
    """Missing, or outside the actor's scope: both answer exactly the same."""

    status = 404
    code = "not_found"

    @classmethod
    def default_message(cls) -> object:
        return _("Not found.")


class Conflict(Refused):
    """The object changed since the client read it (optimistic locking) or is in a state that
    forbids the change."""

    status = 409
    code = "conflict"

    @classmethod
    def default_message(cls) -> object:
        return _("Someone else changed this in the meantime.")


M = TypeVar("M", bound=Model)


def get_or_not_found(
    queryset: QuerySet[M] | Manager[M], message: object = "", /, **lookup: Any
) -> M:
    """`queryset.get(**lookup)`, or `NotFound` for a missing row or a malformed id alike, so the
    answer never tells a stranger which ids exist."""
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise NotFound(message) from exc
