"""Celery jobs of the live sitting."""

from __future__ import annotations

from celery import shared_task

from delivery.closing import attempts_auto_submit_due, attempts_submit_at_closing


@shared_task(name="delivery.tasks.auto_submit_due", ignore_result=True)
def auto_submit_due() -> int:
    """Submit every attempt whose time and late-delivery grace are up (beat: every 5 s)."""
    return attempts_auto_submit_due()


@shared_task(name="delivery.tasks.submit_at_closing", ignore_result=True)
def submit_at_closing() -> int:
    """Submit every attempt still open in a sitting whose closing time passed (beat: every
    minute; the sweeper does the same every half second where it runs)."""
    return attempts_submit_at_closing()
