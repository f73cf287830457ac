"""Celery jobs queued after commit, and what happens instead while the broker is unreachable.

A change that queues a job must not fail, nor lose the job silently, because Redis is away: the
caller says what its user would expect instead (compute in place, mark the job failed in words
the requester reads). Periodic jobs (beat) need none of this: the next run does what one missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from django.db import transaction

from provplattform.logs import warn_every

log = logging.getLogger(__name__)


def enqueue_on_commit(
    task: Task, /, *args: Any, fallback: Callable[[], object], **kwargs: Any
) -> None:
    """Once the current transaction commits, queue `task(*args, **kwargs)`; if the broker cannot
    take it, log it (once every few seconds per task) and call `fallback()` instead.

    A rolled-back transaction queues nothing and calls nothing.
    """
    transaction.on_commit(lambda: _enqueue(task, *args, fallback=fallback, **kwargs))


def _enqueue(task: Task, /, *args: Any, fallback: Callable[[], object], **kwargs: Any) -> None:
    try:
        task.delay(*args, **kwargs)
        return
    except Exception as exc:  # the broker's error types depend on the transport
        warn_every(
            log,
            f"not-queued:{task.name}",
            "job %s not queued (%s: %s); running its fallback",
            task.name,
            type(exc).__name__,
            exc,
        )
    fallback()
