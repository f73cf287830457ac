"""Celery jobs of the schools app: take ids, call one service."""

from __future__ import annotations

from celery import shared_task

from schools.transfer.services import transfer_run_execute, transfer_runs_fail_stale


@shared_task(name="schools.transfer_run")
def transfer_run(run_id: int) -> None:
    transfer_run_execute(run_id=run_id)


@shared_task(name="schools.transfer_fail_stale")
def transfer_fail_stale() -> None:
    transfer_runs_fail_stale()
