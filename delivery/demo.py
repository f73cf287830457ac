"""Demo data for the live sitting: student credentials for the demo sittings.

Called by demo.management.commands.seed_demo; the returned logins are printed with the others.
"""

from __future__ import annotations

from typing import Any

from delivery.attempts import attempts_ensure
from delivery.student_auth import credential_issue
from exams.models import Sitting, SittingStatus


def _get(ctx: Any, name: str):
    if isinstance(ctx, dict):
        return ctx.get(name)
    return getattr(ctx, name, None)


def seed_delivery(ctx: Any) -> dict:
    """Give every student of the demo sittings a fresh username and password.

    `ctx` may name the sittings (`sittings`); otherwise every scheduled on-platform sitting is used.
    Returns {"student_logins": [{"name", "username", "password", "sitting", "school_unit"}]}.
    """
    sittings = _get(ctx, "sittings")
    if sittings is None:
        sittings = Sitting.objects.filter(status=SittingStatus.SCHEDULED, subtest__on_platform=True)
    logins: list[dict] = []
    seen: set[int] = set()
    for sitting in sittings:
        attempts_ensure(sitting=sitting)
        for placement in sitting.placements.select_related("person").order_by(
            "person__family_name", "person__given_name"
        ):
            person = placement.person
            if person.pk in seen:
                continue
            seen.add(person.pk)
            credential, secret = credential_issue(person=person, reset=True)
            logins.append(
                {
                    "name": person.full_name,
                    "username": credential.username,
                    "password": secret,
                    "sitting": str(sitting),
                    "school_unit": sitting.school_unit.name,
                }
            )
    return {"student_logins": logins, "student_login_url": "/student/"}
