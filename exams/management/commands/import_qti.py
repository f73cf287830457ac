"""python manage.py import_qti PATH.zip — import a QTI 3.0 package as a draft test."""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exams.definitions.qti_import import DEFAULT_WINDOW_DAYS, import_package
from exams.models import Programme
from schools.models import User


def operator_user(username: str | None) -> User:
    operators = User.objects.filter(is_platform_operator=True, is_active=True)
    if username:
        operators = operators.filter(username=username)
    user = operators.order_by("pk").first()
    if user is None:
        raise CommandError("No active platform operator found (use --operator USERNAME).")
    return user


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = "Import a QTI 3.0 content package as a draft test; prints what was created and refused."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--operator", help="Username of the platform operator to record.")
        parser.add_argument("--programme", default=Programme.SE_NATIONAL, choices=Programme.values)
        parser.add_argument("--subject", default="")
        parser.add_argument("--grade", type=int, default=9)
        parser.add_argument(
            "--window-start",
            type=_date,
            help="First day of the test window, YYYY-MM-DD (default: today).",
        )
        parser.add_argument(
            "--window-end",
            type=_date,
            help=f"Last day of the window, YYYY-MM-DD (default: start + {DEFAULT_WINDOW_DAYS} d).",
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        start, end = options["window_start"], options["window_end"]
        if start and end and end < start:
            raise CommandError("The window cannot end before it starts.")
        actor = operator_user(options["operator"])
        with path.open("rb") as handle:
            report = import_package(
                actor=actor,
                file=handle,
                programme=options["programme"],
                subject=options["subject"],
                grade=options["grade"],
                window_start=start,
                window_end=end,
            )
        for line in report.lines():
            self.stdout.write(line)
        if not report.imported:
            raise CommandError("Nothing was imported.")
