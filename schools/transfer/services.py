"""Transfer runs: submit, execute (parse → check → apply in one transaction) and report.

`transfer_process` is the one code path for the API, the spreadsheet upload and the benchmark.
Progress: while a run is checked and applied its counters live in the cache (Redis when
configured), because the main transaction's own writes are invisible to other connections until
it commits — on PostgreSQL and on SQLite alike, and a second SQLite connection could not write
while the first holds the write lock. Outside the transaction (the parse stage, and the end of
the run) the TransferRun row itself is updated, so the row is right whenever no run is active.
"""

from __future__ import annotations

import base64
import datetime
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation

from provplattform.jobs import enqueue_on_commit
from schools import hooks
from schools.models import (
    Organiser,
    OrganiserApiToken,
    SchoolUnit,
    TransferRun,
    TransferSource,
    TransferStatus,
    User,
)
from schools.transfer.apply import apply_document
from schools.transfer.check import check_document
from schools.transfer.document import Rejection, count_records, decode, parse
from schools.transfer.report import counts_report, late_flags
from schools.transfer.selectors import organisers_administered_by
from schools.transfer.state import RunState
from schools.transfer.xlsx import check_archive, read_workbook

logger = logging.getLogger(__name__)
PROGRESS_TTL_S = 24 * 3600


def _progress_key(run_id: int) -> str:
    return f"transfer-progress:{run_id}"


class _Progress:
    """Counts records done in two passes (check, then apply); total = 2 × records."""

    def __init__(self, run: TransferRun | None, total_records: int) -> None:
        self.run = run
        self.total = 2 * total_records
        self.done = 0
        self.phase = "checking"

    def __call__(self, n: int) -> None:
        self.done = min(self.done + n, self.total)
        self.publish()

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        if phase == "applying":
            self.done = max(self.done, self.total // 2)
        self.publish()

    def publish(self) -> None:
        if self.run is None:
            return
        value = {"done": self.done, "total": self.total, "phase": self.phase}
        cache.set(_progress_key(self.run.pk), value, PROGRESS_TTL_S)
        if not connection.in_atomic_block:
            TransferRun.objects.filter(pk=self.run.pk).update(
                progress_done=self.done, progress_total=self.total
            )


# A run lasts seconds (10,000 persons in a few); one still `running` after this lost its worker.
STALE_RUN_AFTER = datetime.timedelta(hours=1)
STALE_RUN_CODE = "worker_lost"


def transfer_runs_fail_stale(*, runs: QuerySet | None = None) -> int:
    """Mark runs still `running` an hour after they started as failed, saying why.

    Invariant: such a run's worker stopped (a crash or a restart) inside the run's transaction,
    which was rolled back, so nothing of it was applied; the report says so. `runs` limits the
    sweep (a page fails only the runs its reader may see); the periodic job sweeps them all.
    Returns how many."""
    now = timezone.now()
    if runs is None:
        runs = TransferRun.objects.all()
    return runs.filter(status=TransferStatus.RUNNING, started_at__lt=now - STALE_RUN_AFTER).update(
        status=TransferStatus.FAILED,
        finished_at=now,
        modified=now,
        report={
            "code": STALE_RUN_CODE,
            "error": "The run stopped without finishing (its worker stopped); nothing was "
            "applied. Submit the document again.",
        },
    )


def transfer_run_progress(run: TransferRun) -> dict[str, Any]:
    """Progress of a run as others see it: the cached counters while it runs, else the row."""
    if run.status == TransferStatus.RUNNING:
        cached = cache.get(_progress_key(run.pk))
        if cached:
            return cached
    return {
        "done": run.progress_done,
        "total": run.progress_total,
        "phase": "checking" if run.status == TransferStatus.RUNNING else run.status,
    }


def transfer_process(
    *,
    organiser: Organiser,
    document: Any,
    scope_unit: SchoolUnit | None = None,
    reason: str = "",
    progress: Callable[[int], None] | None = None,
    pre_rejections: list[Rejection] | None = None,
    locate: Callable[[dict], dict] | None = None,
) -> dict[str, Any]:
    """Check a document (JSON text or decoded data) and apply it if nothing is rejected.

    Invariant: either every record is applied in one transaction, or nothing is and the report
    lists every rejected record with field and reason. Applying the same document twice changes
    nothing the second time.
    """
    started = time.perf_counter()
    report: dict[str, Any] = {"records": 0, "counts": {}, "rejected": [], "flags": []}
    if isinstance(document, str | bytes):
        data, broken = decode(document)
        if broken is not None:
            report.update(status=TransferStatus.REJECTED.value, rejected=[broken.as_dict()])
            return report
    else:
        data = document
    step = progress if isinstance(progress, _Progress) else None
    doc = parse(data, progress=progress)
    if pre_rejections:
        doc.rejected[:0] = pre_rejections
    report["records"] = doc.record_count
    with transaction.atomic():
        locked = Organiser.objects.select_for_update().get(pk=organiser.pk)
        state = RunState.begin(
            organiser=locked, doc=doc, scope_unit=scope_unit, reason=reason, progress=progress
        )
        check_document(state)
        if doc.rejected:
            kept = doc.rejected[:MAX_REPORTED_REJECTIONS]
            rejected = [locate(r.as_dict()) if locate else r.as_dict() for r in kept]
            report.update(
                status=TransferStatus.REJECTED.value,
                rejected=rejected,
                rejected_total=len(doc.rejected),
                rejected_more=_counts_per_reason(doc.rejected[MAX_REPORTED_REJECTIONS:]),
                flag_total=0,
            )
            report["seconds"] = round(time.perf_counter() - started, 3)
            return report
        if step:
            step.set_phase("applying")
        first = locked.first_transfer_at is None
        apply_document(state)
        report["flags"] = late_flags(state, first_transfer=first)
        now = timezone.now()
        locked.last_transfer_at = now
        locked.first_transfer_at = locked.first_transfer_at or now
        locked.save(update_fields=["first_transfer_at", "last_transfer_at", "modified"])
        organiser.first_transfer_at, organiser.last_transfer_at = (
            locked.first_transfer_at,
            locked.last_transfer_at,
        )
    report["status"] = TransferStatus.APPLIED.value
    report["rejected_total"] = 0
    report["flag_total"] = len(report["flags"])
    report["counts"] = counts_report(state)
    report["seconds"] = round(time.perf_counter() - started, 3)
    return report


# A run's stored report names this many rejected records; the rest are counted per reason, so
# that a broken register of 100,000 rows gives a report of a bounded size.
MAX_REPORTED_REJECTIONS = 200
MAX_REASONS = 50


def _counts_per_reason(rejections: list[Rejection]) -> dict[str, int]:
    """ "<kind> <field>" → how many more records were rejected there."""
    counts: dict[str, int] = {}
    for rejection in rejections:
        key = f"{rejection.type} {rejection.field}".strip()
        if key not in counts and len(counts) >= MAX_REASONS:
            key = "other"
        counts[key] = counts.get(key, 0) + 1
    return counts


def transfer_submit(
    *,
    organiser: Organiser,
    source: str,
    payload: dict[str, Any],
    actor: User | None = None,
    api_token: OrganiserApiToken | None = None,
    school_unit: SchoolUnit | None = None,
) -> TransferRun:
    """Queue a run; the Celery job starts once this transaction commits."""
    from schools.tasks import transfer_run  # noqa: PLC0415 - tasks import services: a cycle

    run = TransferRun.objects.create(
        organiser=organiser,
        source=source,
        payload=payload,
        submitted_by=actor if getattr(actor, "is_authenticated", False) else None,
        api_token=api_token,
        school_unit=school_unit,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    enqueue_on_commit(transfer_run, run.pk, fallback=functools.partial(_not_queued, run))
    return run


NOT_QUEUED_CODE = "not_queued"


def _not_queued(run: TransferRun) -> None:
    """The broker is away: the run fails at once, saying so, instead of waiting as queued for a
    worker that never hears of it. Nothing was applied; the document is not kept (it is not the
    cause) and is sent again."""
    run.status = TransferStatus.FAILED
    run.finished_at = timezone.now()
    run.payload = {}
    run.report = {
        "code": NOT_QUEUED_CODE,
        "error": "The run could not be queued (the job queue is unavailable); nothing was "
        "applied. Submit the document again.",
    }
    run.save(update_fields=["status", "finished_at", "payload", "report", "modified"])


def transfer_submit_xlsx(
    *, organiser: Organiser, data: bytes, actor: User, school_unit: SchoolUnit | None = None
) -> TransferRun:
    """Turn an uploaded workbook into a transfer document and queue it like an API run.

    Only an administrator of the organiser uploads, for the organiser or one of its units."""
    if not organisers_administered_by(actor).filter(organiser=organiser).exists():
        raise PermissionDenied("Only the organiser's administrator uploads spreadsheets.")
    if school_unit is not None and school_unit.organiser_id != organiser.pk:
        raise PermissionDenied("The school unit belongs to another organiser.")

    # Refused here, at once, with its reason: a file that would exhaust the worker.
    check_archive(data)
    # Parsing is the worker's: the request only stores the file (its size is capped by the page).
    return transfer_submit(
        organiser=organiser,
        source=TransferSource.XLSX,
        payload={"xlsx": base64.b64encode(data).decode("ascii")},
        actor=actor,
        school_unit=school_unit,
    )


def transfer_run_execute(*, run_id: int) -> TransferRun:
    """Run a queued transfer to its end: applied, rejected (with reasons) or failed."""
    run = TransferRun.objects.select_related("organiser", "school_unit").get(pk=run_id)
    if run.status != TransferStatus.QUEUED:
        return run
    # The reasons in the report are read by the person who submitted the run.
    with translation.override(run.language or settings.LANGUAGE_CODE):
        return _execute(run)


def _execute(run: TransferRun) -> TransferRun:
    payload = run.payload or {}
    locate: Callable[[dict], dict] | None
    if run.source == TransferSource.XLSX:
        if "xlsx" in payload:
            document, rows, rejections = read_workbook(
                base64.b64decode(payload["xlsx"]),
                organiser=run.organiser,
                scope_unit=run.school_unit,
            )
            pre = rejections
        else:  # a run queued before parsing moved to the worker
            document = payload.get("document") or {}
            pre = [Rejection(**r) for r in payload.get("rejections", [])]
            rows = payload.get("rows", {})

        def locate(rejection: dict) -> dict:
            if rejection["type"] == "row":
                where = rejection["id"]
            else:
                where = rows.get(f"{rejection['type']}:{rejection['id']}")
            if where:
                message = f"{where[0].upper()}{where[1:]}: {rejection['message']}"
                rejection = {**rejection, "row": where, "message": message}
            return rejection

        records = count_records(document)
    else:
        document = payload.get("text", "")
        pre, locate = None, None
        data, broken = decode(document)
        records = 0 if broken else count_records(data)
        if not broken:
            document = data
    progress = _Progress(run, records)
    run.status = TransferStatus.RUNNING
    run.started_at = timezone.now()
    run.progress_total = progress.total
    run.save(update_fields=["status", "started_at", "progress_total", "modified"])
    progress.publish()
    try:
        report = transfer_process(
            organiser=run.organiser,
            document=document,
            scope_unit=run.school_unit,
            reason=f"Transfer run {run.public_id}",
            progress=progress,
            pre_rejections=pre,
            locate=locate,
        )
    except Exception:
        logger.exception("Transfer run %s failed", run.public_id)
        run.status = TransferStatus.FAILED
        run.report = {"error": "The run failed unexpectedly; nothing was applied."}
    else:
        run.status = report["status"]
        run.report = report
        run.progress_done = progress.total
    run.finished_at = timezone.now()
    if run.status != TransferStatus.FAILED:
        # The report says what happened; the document itself, civic numbers and all, is not
        # kept past its use. A failed run keeps it so that the cause can be found.
        run.payload = {}
    run.save(
        update_fields=["status", "report", "progress_done", "finished_at", "payload", "modified"]
    )
    cache.delete(_progress_key(run.pk))
    if run.status == TransferStatus.APPLIED:
        organiser = run.organiser

        transaction.on_commit(lambda: hooks.transfer_applied.notify(organiser, run))
    return run
