"""Jobs queued after commit: queued once the change commits, never for a rolled-back one, and
while the broker is unreachable the caller's fallback runs instead, logged once."""

from __future__ import annotations

import logging

import pytest
from celery import shared_task
from django.db import transaction

from provplattform.jobs import enqueue_on_commit

pytestmark = pytest.mark.django_db

done: list[str] = []


@shared_task(name="tests.provplattform.test_jobs.note")
def note(word: str) -> None:
    done.append(word)


@pytest.fixture(autouse=True)
def fresh():
    done.clear()


def test_a_job_runs_after_commit_and_not_after_a_rollback(django_capture_on_commit_callbacks):
    fallbacks = []
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue_on_commit(note, "rolled back", fallback=lambda: fallbacks.append(1))
            raise RuntimeError
        enqueue_on_commit(note, "committed", fallback=lambda: fallbacks.append(1))
    assert done == ["committed"] and fallbacks == []


def test_while_the_broker_is_away_the_fallback_runs_and_the_log_says_so_once(
    broker_away, django_capture_on_commit_callbacks, caplog
):
    # given Redis refuses connections
    fallbacks = []
    # when two changes each queue a job
    with caplog.at_level(logging.WARNING, logger="provplattform.jobs"):
        for word in ("first", "second"):
            with django_capture_on_commit_callbacks(execute=True):
                enqueue_on_commit(note, word, fallback=lambda w=word: fallbacks.append(w))
    # then neither change fails: each fallback runs, nothing ran as a job, one log line
    assert fallbacks == ["first", "second"] and done == []
    lines = [r.getMessage() for r in caplog.records if r.name == "provplattform.jobs"]
    assert len(lines) == 1 and "tests.provplattform.test_jobs.note not queued" in lines[0]
