"""Celery jobs of results: ids in, one service call."""

from __future__ import annotations

from celery import shared_task

from exams.models import Subtest, TestDefinition
from results import dirty
from results.jobs import expired_jobs_remove, export_job_run
from results.services import results_compute
from schools.models import SchoolUnit


@shared_task(name="results.tasks.recompute", ignore_result=True)
def recompute(*, school_unit_id: int, test_id: int, person_ids: list[int] | None = None) -> int:
    """Recompute one test's results at one unit (for some students, or all); the new version."""
    result_set = results_compute(
        school_unit=SchoolUnit.objects.get(pk=school_unit_id),
        test=TestDefinition.objects.get(pk=test_id),
        person_ids=person_ids,
        reason="scores changed",
    )
    return result_set.version


@shared_task(name="results.tasks.recompute_dirty", ignore_result=True)
def recompute_dirty(*, school_unit_id: int, subtest_id: int) -> int | None:
    """Recompute the students whose scores in a subtest changed since the last run
    (results.dirty); the new version, or None when there was nothing to do."""
    persons = dirty.take(school_unit_id=school_unit_id, subtest_id=subtest_id)
    test_id = Subtest.objects.filter(pk=subtest_id).values_list("test_id", flat=True).first()
    if not persons or test_id is None:
        return None
    return recompute(school_unit_id=school_unit_id, test_id=test_id, person_ids=persons)


@shared_task(name="results.tasks.run_export", ignore_result=True)
def run_export(*, job_id: int) -> None:
    export_job_run(job_id=job_id)


@shared_task(name="results.tasks.remove_expired_exports", ignore_result=True)
def remove_expired_exports() -> int:
    return expired_jobs_remove()
