"""Reads for the live sitting, scoped to the acting user's school units."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from delivery.models import Attempt, Response
from delivery.services import attempts_ensure
from exams.models import Item, Sitting
from schools.roles import Capability
from schools.selectors import scope_to_school_units


def sittings_for(*, user, capability: Capability | str = Capability.PROCTOR) -> QuerySet:
    return scope_to_school_units(
        Sitting.objects.select_related("school_unit", "subtest", "room"),
        user=user,
        capability=capability,
    )


def access_sitting(
    *, user, public_id, capability: Capability | str = Capability.PROCTOR
) -> Sitting:
    """The sitting, if the user holds `capability` at its school unit; otherwise 404."""
    try:
        return sittings_for(user=user, capability=capability).get(public_id=public_id)
    except (Sitting.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such sitting.") from exc


def attempts_for_sitting(*, sitting: Sitting) -> QuerySet:
    """Every student's attempt in the sitting; NOT_STARTED attempts are created on first read."""
    attempts_ensure(sitting=sitting)
    return (
        Attempt.objects.filter(sitting=sitting)
        .select_related("person")
        .order_by("person__family_name", "person__given_name")
    )


def access_attempt(*, user, sitting: Sitting, public_id) -> Attempt:
    try:
        return Attempt.objects.select_related("sitting__school_unit", "person").get(
            sitting=sitting, public_id=public_id
        )
    except (Attempt.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such attempt.") from exc


def items_of(*, attempt: Attempt) -> list[Item]:
    return list(Item.objects.filter(subtest_id=attempt.sitting.subtest_id).order_by("position"))


def responses_of(*, attempt: Attempt) -> dict[str, dict]:
    """What the server holds, keyed by item public id, for the client to merge by sequence."""
    rows = Response.objects.filter(attempt=attempt).values(
        "item__public_id", "content", "seq", "flagged", "late"
    )
    return {
        str(r["item__public_id"]): {
            "content": r["content"],
            "seq": r["seq"],
            "flagged": r["flagged"],
            "late": r["late"],
        }
        for r in rows
    }
