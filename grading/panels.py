"""The grading panel of a school unit's dashboard (schools.dashboard)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from grading import selectors
from schools.roles import Capability


def grading_panel(request, unit, capabilities) -> dict | None:
    """For the lead: the school's grading dates with the number left. For an assessor: their
    own work left, flagged when the date is near (the in-app reminder)."""
    today = timezone.localdate()
    context: dict = {}
    if Capability.PREPARE_GRADING in capabilities:
        context["plans"] = selectors.plans_due(school_unit=unit, today=today)
    person = getattr(request.user, "person", None)
    if Capability.ASSESS in capabilities and person is not None:
        work = selectors.assessor_work_left(person=person, school_unit=unit)
        for row in work:
            due = row["plan__due_date"]
            row["soon"] = due is not None and (due - today).days <= settings.GRADING_REMINDER_DAYS
        context["work"] = work
    if not context.get("plans") and not context.get("work"):
        return None
    return context
