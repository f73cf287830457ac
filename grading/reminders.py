"""Reminders to assessors with work left a few days before the school's grading date.

In-app, the dashboard panel (grading.panels) shows the work left and the date from the same
selectors. By e-mail, `reminders_send` writes once per assessor, plan and day to those with an
address; each sent reminder is audited, which is also what keeps it from being sent twice.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from grading.models import GradingAssignment, GradingPlan
from provplattform.audit import AuditAction, audit_record
from provplattform.models import AuditEvent
from schools.models import Person


def reminder_window(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return today, today + datetime.timedelta(days=settings.GRADING_REMINDER_DAYS)


def reminders_due(*, today: datetime.date) -> list[Mapping[str, Any]]:
    """(plan, assessor, left) for every assessor with unassessed work on a plan due soon."""
    start, end = reminder_window(today)
    return list(
        GradingAssignment.objects.filter(
            plan__due_date__gte=start, plan__due_date__lte=end, score__points__isnull=True
        )
        .values("plan_id", "assessor_id")
        .annotate(left=Count("pk"))
        .order_by("plan_id", "assessor_id")
    )


def reminders_send(*, today: datetime.date | None = None) -> int:
    """E-mail each assessor with work left on a plan due within the reminder window, once a
    day. Returns how many were sent."""
    today = today or timezone.localdate()
    sent = 0
    for row in reminders_due(today=today):
        plan = GradingPlan.objects.select_related("subtest__test", "school_unit").get(
            pk=row["plan_id"]
        )
        person = Person.objects.filter(pk=row["assessor_id"]).select_related("user").first()
        if person is None:
            continue
        user = getattr(person, "user", None)
        address = (getattr(user, "email", "") or getattr(person, "email", "")).strip()
        # A plan in the window has a due date; the check says so to the type checker.
        if not address or plan.due_date is None:
            continue
        already = AuditEvent.objects.filter(
            action=AuditAction.GRADING_REMINDER,
            target_id=str(plan.public_id),
            after__assessor=str(person.public_id),
            at__date=today,
        ).exists()
        if already:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Grading to finish by %(date)s") % {"date": plan.due_date.isoformat()}
            body = _(
                "You have %(left)s responses of %(test)s – %(subtest)s left to assess at "
                "%(unit)s. The school's grading date is %(date)s."
            ) % {
                "left": row["left"],
                "test": plan.subtest.test.title,
                "subtest": plan.subtest.title,
                "unit": plan.school_unit.name,
                "date": plan.due_date.isoformat(),
            }
        send_mail(subject, body, None, [address], fail_silently=True)
        audit_record(
            actor=None,
            action=AuditAction.GRADING_REMINDER,
            target=plan,
            after={"assessor": str(person.public_id), "left": row["left"]},
            scope=plan.school_unit,
        )
        sent += 1
    return sent
