"""Seed the assessor's desk for the browser test: run as `python -m tests.e2e.desk_seed` with the
e2e DATABASE_URL. One school unit, an assessor, five students' submitted answers to an essay item
all assigned to the assessor. Prints what the test needs as one JSON object on stdout."""

from __future__ import annotations

import json
import os


def seed() -> dict:
    import factory

    from schools.roles import Role
    from schools.services import role_assign
    from tests import factories
    from tests.factories import PASSWORD, OrganiserFactory, SchoolUnitFactory, staff_member
    from tests.grading.desk_helpers import assign_all, graded_subtest, submitted_attempts

    # A second seeding process: keep clear of the numbers the first one used.
    for value in vars(factories).values():
        if isinstance(value, type) and issubclass(value, factory.django.DjangoModelFactory):
            value.reset_sequence(20_000)  # below smallint positions
    tag = os.environ.get("E2E_TAG", "e2e")
    unit = SchoolUnitFactory(organiser=OrganiserFactory(), name="Deskskolan")
    assessor = staff_member(unit, duty_role="Lärare", username=f"{tag}-desk-assessor")
    role_assign(actor=None, person=assessor.person, school_unit=unit, role=Role.ASSESSOR)
    subtest, items = graded_subtest(open_items=1, closed_items=0)
    attempts = submitted_attempts(unit=unit, subtest=subtest, items=items, count=5)
    assign_all(unit=unit, subtest=subtest, assessor_person=assessor.person)
    return {
        "unit": str(unit.public_id),
        "assessor": {"username": assessor.username, "password": PASSWORD},
        "students": [a.person.family_name for a in attempts],
        "max_points": items[0].max_points,
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "provplattform.settings")
    import django

    django.setup()
    print(json.dumps(seed()))


if __name__ == "__main__":
    main()
