"""Exports and letter batches made by a worker: progress on the page, a download link only the
requester can use, gone after a day.

The worker checks the requester's results scope again when it runs: a teacher who left the group
in between gets nothing.
"""

from __future__ import annotations

import datetime
import functools
import logging
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from provplattform.errors import NotFound
from provplattform.jobs import enqueue_on_commit
from results import exports, letters, selectors, visibility
from results.models import ExportJob, ExportStatus, ResultSet

if TYPE_CHECKING:
    from schools.models import User

# Above this many students an export runs as a job instead of in the request.
ASYNC_ROWS = 2000
KEEP_FOR = datetime.timedelta(days=1)
KINDS = ("csv", "xlsx", "letters")

log = logging.getLogger(__name__)


def export_job_start(
    *, actor: User, scope: visibility.ResultScope, result_set: ResultSet, kind: str, group=None,
    options: dict | None = None,
) -> ExportJob:  # fmt: skip
    """Queue a job; the worker starts after commit."""
    from results.tasks import run_export  # noqa: PLC0415 - tasks import this module: a cycle

    job = ExportJob.objects.create(
        requested_by=actor,
        school_unit=scope.school_unit,
        result_set=result_set,
        group=group,
        kind=kind,
        options=options or {},
        version=result_set.version,
        expires_at=timezone.now() + KEEP_FOR,
    )
    enqueue_on_commit(
        run_export, job_id=job.pk, fallback=functools.partial(_export_in_place, job_id=job.pk)
    )
    return job


def _export_in_place(*, job_id: int) -> None:
    """The broker is away: the requester waits a few seconds for the file here rather than for
    a worker that never hears of the job (an export is a job only above `ASYNC_ROWS` rows, which
    the request itself makes below that)."""
    try:
        export_job_run(job_id=job_id)
    except Exception:
        log.exception("export job %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(status=ExportStatus.FAILED)


def _progress(job: ExportJob, *, every: int = 50):
    def report(done: int) -> None:
        if done % every == 0 or done == job.total:
            ExportJob.objects.filter(pk=job.pk).update(done=done)

    return report


def export_job_run(*, job_id: int) -> ExportJob:
    """Make the job's file. The requester's scope is read now, not when the job was queued."""
    job = ExportJob.objects.select_related("result_set__test", "school_unit", "group").get(
        pk=job_id
    )
    scope = visibility.result_scope(user=job.requested_by, school_unit=job.school_unit)
    if scope is None or (job.group is None and not scope.may_export_unit):
        job.status = ExportStatus.FAILED
        job.save(update_fields=["status"])
        return job
    group = job.group
    if group is not None and not scope.groups().filter(pk=group.pk).exists():
        job.status = ExportStatus.FAILED
        job.save(update_fields=["status"])
        return job
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)
    table = selectors.result_table(scope=scope, result_set=job.result_set, group=group)
    what = group.name if group else job.school_unit.name
    job.version = job.result_set.version
    if job.kind == "letters":
        rows = letters.letter_rows(
            table, include_just_above=bool(job.options.get("include_just_above"))
        )
        job.total = len(rows)
        ExportJob.objects.filter(pk=job.pk).update(total=job.total)
        html = letters.letters_html(
            table, rows, languages=job.options.get("languages") or {}, progress=_progress(job)
        )
        content, extension = letters.letters_pdf(html), "pdf"
        letters.letters_audit(actor=job.requested_by, table=table, rows=rows, what=what)
    else:
        job.total = len(table.rows)
        lines = exports.all_rows(table, what=what)
        if job.kind == "csv":
            content, extension = "".join(exports.csv_lines(lines)).encode("utf-8-sig"), "csv"
        else:
            content, extension = exports.xlsx_bytes(lines), "xlsx"
        exports.export_audit(actor=job.requested_by, table=table, kind=job.kind, what=what)
    job.file.save(f"{job.public_id}.{extension}", ContentFile(content), save=False)
    job.done = job.total
    job.status = ExportStatus.DONE
    job.save(update_fields=["file", "done", "total", "status", "version"])
    return job


def access_job(*, user: User, school_unit, public_id) -> ExportJob:
    """Only the requester, only until it expires; anyone else is told it does not exist."""
    try:
        return ExportJob.objects.select_related("result_set").get(
            public_id=public_id,
            school_unit=school_unit,
            requested_by_id=user.pk,
            expires_at__gt=timezone.now(),
        )
    except (ExportJob.DoesNotExist, ValueError) as exc:
        raise NotFound(_("No such export.")) from exc


def jobs_of(*, user: User, school_unit):
    return (
        ExportJob.objects.filter(
            school_unit=school_unit, requested_by_id=user.pk, expires_at__gt=timezone.now()
        )
        .select_related("result_set__test", "group")
        .order_by("-created")
    )


def expired_jobs_remove() -> int:
    """Delete the files and rows of expired jobs (beat: hourly)."""
    removed = 0
    for job in ExportJob.objects.filter(expires_at__lte=timezone.now()):
        if job.file:
            job.file.delete(save=False)
        job.delete()
        removed += 1
    return removed
