"""The demo test definitions in exams/definitions/shipped/, loaded and published (idempotent).

Their dates are relative to the day they are loaded ("-3d" … "+30d"), so a fresh demo always
has open windows.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from exams.definitions.format import load_file
from exams.definitions.services import test_create, test_publish
from exams.models import DefinitionStatus, TestDefinition
from schools.models import User

DEFINITIONS = Path(__file__).resolve().parent / "shipped"
DEMO_FILES = ["np-matematik-ak9.yaml", "kartlegging-lesing-1.yaml"]


def _operator() -> User:
    operator = User.objects.filter(is_platform_operator=True).order_by("pk").first()
    if operator is None:
        operator = User.objects.create(
            username="operator",
            first_name="Olga",
            last_name="Operatör",
            is_platform_operator=True,
        )
        operator.set_unusable_password()
        operator.save()
    return operator


@transaction.atomic
def load_demo_definitions() -> list[TestDefinition]:
    """Create and publish each demo test unless a version of it exists; return the tests."""
    tests = []
    actor = None
    for name in DEMO_FILES:
        spec, assets = load_file(DEFINITIONS / name)
        existing = (
            TestDefinition.objects.filter(code=spec["code"])
            .exclude(status=DefinitionStatus.RETIRED)
            .order_by("-version")
            .first()
        )
        if existing is None:
            actor = actor or _operator()
            existing = test_publish(
                actor=actor, test=test_create(actor=actor, spec=spec, assets=assets)
            )
        tests.append(existing)
    return tests
