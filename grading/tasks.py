"""Celery jobs of grading: take ids, call one service."""

from __future__ import annotations

from celery import shared_task

from grading.reminders import reminders_send


@shared_task(name="grading.tasks.send_reminders", ignore_result=True)
def send_reminders() -> int:
    """E-mail assessors with work left a few days before the grading date (beat)."""
    return reminders_send()
