"""python manage.py load_definition FILE.yaml [--publish] — create a test from a definition file."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from exams.definitions.format import load_file
from exams.definitions.problems import DefinitionInvalid
from exams.definitions.rules import DefinitionRefused
from exams.definitions.services import test_create, test_publish
from exams.management.commands.import_qti import operator_user


class Command(BaseCommand):
    help = "Validate a YAML/JSON test definition and create it as a draft (or publish it)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--operator", help="Username of the platform operator to record.")
        parser.add_argument("--publish", action="store_true")
        parser.add_argument("--check", action="store_true", help="Only validate.")

    def handle(self, *args, **options):
        try:
            spec, assets = load_file(options["path"])
        except DefinitionInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(exc.problems)} problem(s); nothing was created.") from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        if options["check"]:
            self.stdout.write(f"{spec['code']}: valid, {len(spec['subtests'])} subtests.")
            return
        actor = operator_user(options["operator"])
        try:
            test = test_create(actor=actor, spec=spec, assets=assets)
            if options["publish"]:
                test = test_publish(actor=actor, test=test)
        except (DefinitionRefused, DefinitionInvalid) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Created {test.title} ({test.code} v{test.version}, {test.status}): "
            + ", ".join(f"{s.code} ({s.items.count()} items)" for s in test.subtests.all())
        )
