"""Celery jobs of the preparation before the day."""

from __future__ import annotations

from celery import shared_task

from exams.preparation.assignments import assignments_sync_mandatory
from schools.models import SchoolUnit


@shared_task(name="exams.tasks.sync_mandatory_assignments", ignore_result=True)
def sync_mandatory_assignments(school_unit_id: int | None = None) -> int:
    """Assign mandatory and registered tests to students of the grade (beat: hourly)."""
    if school_unit_id is None:
        return assignments_sync_mandatory()
    unit = SchoolUnit.objects.filter(pk=school_unit_id).first()
    return assignments_sync_mandatory(school_unit=unit) if unit else 0
