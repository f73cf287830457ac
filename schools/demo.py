"""Demo data for the tenancy part: organisers, school units, staff in every role, groups, students.

Idempotent: everything is looked up by external id (or username) before it is created, so running
it again changes nothing. Civic numbers are synthetic: Swedish serials 98x–99x and Norwegian
numbers with 40 added to the month (the registry's convention for test persons).
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from schools.models import (
    Country,
    Duty,
    Enrolment,
    GroupMembership,
    Organiser,
    OrganiserAdministrator,
    Person,
    SchoolUnit,
    TeachingGroup,
    User,
)
from schools.roles import ROLE_TABLE, Role, role_for_duty
from schools.services import permissions_sync, role_assign

DEMO_PASSWORD = "demo-provplattform"
STUDENTS_PER_UNIT = 40
# When the demo organiser "transferred" its people: well over TRANSFER_FIRST_MIN_DAYS ago.
DEMO_TRANSFERRED_DAYS_AGO = 45

ORGANISERS: list[dict[str, Any]] = [
    {"external_id": "demo-org-se", "name": "Ekstads kommun", "country": Country.SWEDEN,
     "organisation_number": "2120000001", "time_zone": "Europe/Stockholm"},
    {"external_id": "demo-org-no", "name": "Fjordvik kommune", "country": Country.NORWAY,
     "organisation_number": "964000001", "time_zone": "Europe/Oslo"},
]  # fmt: skip
UNITS: list[dict[str, Any]] = [
    {"org": "demo-org-se", "external_id": "demo-unit-ek", "name": "Ekskolan",
     "code": "90000001", "year": 9, "groups": ["9A", "9B"]},
    {"org": "demo-org-se", "external_id": "demo-unit-bjork", "name": "Björkskolan",
     "code": "90000002", "year": 6, "groups": ["6A"]},
    {"org": "demo-org-no", "external_id": "demo-unit-fjell", "name": "Fjellskolen",
     "code": "97400001", "year": 5, "groups": ["5A"]},
]  # fmt: skip
# (username, given name, family name, unit, duty role from the organiser, extra school role)
STAFF = [
    ("rektor", "Rut", "Rektorsson", "demo-unit-ek", "Rektor", None),
    ("skoladmin", "Sune", "Adminsson", "demo-unit-ek", "Skoladministratör", None),
    ("provadmin", "Petra", "Provsson", "demo-unit-ek", "Annan personal", Role.TEST_ADMINISTRATOR),
    ("bedledare", "Berit", "Ledarsson", "demo-unit-ek", "Annan personal", Role.ASSESSMENT_LEAD),
    ("provledare", "Pelle", "Vaktsson", "demo-unit-ek", "Annan personal", Role.PROCTOR),
    ("bedomare", "Bo", "Bedömarsson", "demo-unit-ek", "Annan personal", Role.ASSESSOR),
    ("larare", "Lena", "Lärarsson", "demo-unit-ek", "Lärare", None),
    ("larare2", "Lars", "Lärarsson", "demo-unit-ek", "Lärare", None),
    ("ovrig", "Olle", "Övrigsson", "demo-unit-ek", "Vaktmästare", None),
    ("rektor.bjork", "Britt", "Björksson", "demo-unit-bjork", "Rektor", None),
    ("larare.bjork", "Karl", "Björksson", "demo-unit-bjork", "Lärare", None),
    ("rektor.fjell", "Ingrid", "Fjellheim", "demo-unit-fjell", "Rektor", None),
    ("larer.fjell", "Ola", "Nordmann", "demo-unit-fjell", "Lärare", None),
]
# Which teacher teaches which groups.
TEACHES = {"larare": ["9A"], "larare2": ["9B"], "larare.bjork": ["6A"], "larer.fjell": ["5A"]}

GIVEN = [
    "Alva",
    "Elsa",
    "Maja",
    "Ella",
    "Wilma",
    "Noah",
    "Hugo",
    "William",
    "Liam",
    "Lucas",
    "Nora",
    "Emma",
    "Ingrid",
    "Jakob",
    "Emil",
]
FAMILY = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsen",
    "Hansen",
    "Berg",
    "Holm",
    "Dahl",
]


def _luhn_digit(nine: str) -> str:
    total = 0
    for index, char in enumerate(nine):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def swedish_test_number(year: int, index: int) -> str:
    month, day = 1 + index % 12, 1 + index % 28
    nine = f"{year % 100:02d}{month:02d}{day:02d}{980 + index % 20:03d}"
    return f"{year}{month:02d}{day:02d}{nine[6:]}{_luhn_digit(nine)}"


def norwegian_test_number(year: int, index: int) -> str:
    w1, w2 = [3, 7, 6, 1, 8, 9, 4, 5, 2], [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    month, day = 1 + index % 12, 1 + index % 28
    for individual in range(500 + index, 1000):
        digits = [int(c) for c in f"{day:02d}{month + 40:02d}{year % 100:02d}{individual:03d}"]
        k1 = (11 - sum(w * n for w, n in zip(w1, digits, strict=True)) % 11) % 11
        if k1 == 10:
            continue
        k2 = (11 - sum(w * n for w, n in zip(w2, [*digits, k1], strict=True)) % 11) % 11
        if k2 != 10:
            return "".join(map(str, digits)) + f"{k1}{k2}"
    raise ValueError("no valid test number")


def _staff(spec, organisers, units) -> tuple[User, SchoolUnit, Role]:
    username, given, family, unit_id, duty_role, extra_role = spec
    unit = units[unit_id]
    person, _ = Person.objects.get_or_create(
        organiser=unit.organiser,
        external_id=f"demo-staff-{username}",
        defaults={
            "given_name": given,
            "family_name": family,
            "eppn": f"{username}@demo.provplattform.test",
        },
    )
    Duty.objects.get_or_create(
        school_unit=unit,
        external_id=f"demo-duty-{username}",
        defaults={"person": person, "duty_role": duty_role},
    )
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": given, "last_name": family, "person": person},
    )
    if created or not user.has_usable_password():
        user.set_password(DEMO_PASSWORD)
        user.save()
    role = extra_role or role_for_duty(duty_role)
    role_assign(actor=None, person=person, school_unit=unit, role=role, source="transfer")
    return user, unit, role


@transaction.atomic
def seed_schools(previous: dict | None = None) -> dict:
    """Create (or find) the demo tenancy. Returns what later seeders build on."""
    rng = random.Random(2025)  # the same names on every run
    organisers = {}
    for spec in ORGANISERS:
        organisers[spec["external_id"]], _ = Organiser.objects.get_or_create(
            external_id=spec["external_id"],
            defaults={k: v for k, v in spec.items() if k != "external_id"},
        )
    units, groups = {}, {}
    for spec in UNITS:
        unit, _ = SchoolUnit.objects.get_or_create(
            organiser=organisers[spec["org"]],
            external_id=spec["external_id"],
            defaults={
                "name": spec["name"],
                "school_unit_code": spec["code"],
                "school_types": ["GR"],
            },
        )
        units[spec["external_id"]] = unit
        for name in spec["groups"]:
            groups[name], _ = TeachingGroup.objects.get_or_create(
                school_unit=unit,
                external_id=f"demo-group-{spec['external_id']}-{name}",
                defaults={"name": name, "school_year": spec["year"]},
            )

    logins = []
    staff_users: dict[str, User] = {}
    for staff in STAFF:
        user, unit, role = _staff(staff, organisers, units)
        staff_users[user.username] = user
        logins.append(
            {"username": user.username, "password": DEMO_PASSWORD,
             "role": ROLE_TABLE[role].label_sv, "unit": unit.name}
        )  # fmt: skip
    for username, group_names in TEACHES.items():
        teacher = Person.objects.get(user=staff_users[username])
        for name in group_names:
            groups[name].teachers.add(teacher)
            permissions_sync(person=teacher, school_unit=groups[name].school_unit)

    students: dict[str, list[Person]] = {}
    for spec in UNITS:
        unit = units[spec["external_id"]]
        unit_groups = [groups[name] for name in spec["groups"]]
        norwegian = unit.organiser.country == Country.NORWAY
        students[unit.external_id] = []
        for index in range(STUDENTS_PER_UNIT):
            birth_year = 2025 - spec["year"] - 6
            civic = (
                norwegian_test_number(birth_year, index)
                if norwegian
                else swedish_test_number(birth_year, index)
            )
            person, _ = Person.objects.get_or_create(
                organiser=unit.organiser,
                external_id=f"demo-student-{unit.external_id}-{index:03d}",
                defaults={
                    "given_name": rng.choice(GIVEN),
                    "family_name": rng.choice(FAMILY),
                    "civic_number": civic,
                    "protected_identity": index == 7,
                },
            )
            Enrolment.objects.get_or_create(
                person=person,
                school_unit=unit,
                defaults={"school_year": spec["year"], "school_type": "GR"},
            )
            GroupMembership.objects.get_or_create(
                group=unit_groups[index % len(unit_groups)], person=person
            )
            students[unit.external_id].append(person)

    # The organiser transferred the demo people well before today's sittings (the routine asks
    # for TRANSFER_FIRST_MIN_DAYS), so the demo's readiness shows no late transfer.
    transferred_on = timezone.now() - datetime.timedelta(days=DEMO_TRANSFERRED_DAYS_AGO)
    Person.objects.filter(organiser__in=organisers.values(), created__gt=transferred_on).update(
        created=transferred_on, modified=transferred_on
    )

    operator, created = User.objects.get_or_create(
        username="operator",
        defaults={"first_name": "Olga", "last_name": "Operatör", "is_platform_operator": True},
    )
    if created:
        operator.set_password(DEMO_PASSWORD)
        operator.save()
    org_admin, created = User.objects.get_or_create(
        username="huvudman", defaults={"first_name": "Hanna", "last_name": "Huvudman"}
    )
    if created:
        org_admin.set_password(DEMO_PASSWORD)
        org_admin.save()
    OrganiserAdministrator.objects.get_or_create(
        user=org_admin, organiser=organisers["demo-org-se"]
    )
    logins += [
        {"username": "huvudman", "password": DEMO_PASSWORD,
         "role": "Organiser administrator", "unit": organisers["demo-org-se"].name},
        {"username": "operator", "password": DEMO_PASSWORD,
         "role": "Platform operator", "unit": "—"},
    ]  # fmt: skip

    result = dict(previous or {})
    result.update(
        {
            "organisers": organisers,
            "units": units,
            "groups": groups,
            "staff": staff_users,
            "students": students,
            "operator": operator,
            "organiser_admin": org_admin,
            "logins": [*result.get("logins", []), *logins],
        }
    )
    return result
