"""Celery jobs of the schools app: take ids, call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="schools.transfer_run")
def transfer_run(run_id: int) -> None:
    from schools.transfer.services import transfer_run_execute

    transfer_run_execute(run_id=run_id)


@shared_task(name="schools.transfer_fail_stale")
def transfer_fail_stale() -> None:
    from schools.transfer.services import transfer_runs_fail_stale

    transfer_runs_fail_stale()
