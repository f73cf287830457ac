"""python manage.py load_mapping_tests — publish the Norwegian mapping tests that ship in
exams/definitions/shipped/ with Udir's concern thresholds (placeholder items); skips those
present."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from exams.definitions.demo import DEFINITIONS
from exams.definitions.format import load_file
from exams.definitions.services import test_create, test_publish
from exams.management.commands.import_qti import operator_user
from exams.models import DefinitionStatus, TestDefinition

MAPPING_TESTS = (
    "kartlegging-lesing-1",
    "kartlegging-lesing-2",
    "kartlegging-lesing-3",
    "kartlegging-regning-1",
    "kartlegging-regning-2",
    "kartlegging-regning-3",
    "kartlegging-engelsk-3",
    "kartlegging-digital-4",
)


class Command(BaseCommand):
    help = "Publish the Norwegian mapping tests with their published concern thresholds."

    def add_arguments(self, parser):
        parser.add_argument("--operator", help="Username of the platform operator to record.")

    @transaction.atomic
    def handle(self, *args, **options):
        actor = None
        for code in MAPPING_TESTS:
            exists = (
                TestDefinition.objects.filter(code=code)
                .exclude(status=DefinitionStatus.RETIRED)
                .exists()
            )
            if exists:
                self.stdout.write(f"{code}: already there")
                continue
            spec, assets = load_file(DEFINITIONS / f"{code}.yaml")
            actor = actor or operator_user(options["operator"])
            test_publish(actor=actor, test=test_create(actor=actor, spec=spec, assets=assets))
            self.stdout.write(f"{code}: published")
