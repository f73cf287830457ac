"""python manage.py import_qti PATH.zip — import a QTI 3.0 package as a draft test."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exams.models import Programme
from exams.qti import import_package
from schools.models import User


def operator_user(username: str | None) -> User:
    operators = User.objects.filter(is_platform_operator=True, is_active=True)
    if username:
        operators = operators.filter(username=username)
    user = operators.order_by("pk").first()
    if user is None:
        raise CommandError("No active platform operator found (use --operator USERNAME).")
    return user


class Command(BaseCommand):
    help = "Import a QTI 3.0 content package as a draft test; prints what was created and refused."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--operator", help="Username of the platform operator to record.")
        parser.add_argument("--programme", default=Programme.SE_NATIONAL, choices=Programme.values)
        parser.add_argument("--subject", default="")
        parser.add_argument("--grade", type=int, default=9)

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor = operator_user(options["operator"])
        with path.open("rb") as handle:
            report = import_package(
                actor=actor,
                file=handle,
                programme=options["programme"],
                subject=options["subject"],
                grade=options["grade"],
            )
        for line in report.lines():
            self.stdout.write(line)
        if not report.imported:
            raise CommandError("Nothing was imported.")
