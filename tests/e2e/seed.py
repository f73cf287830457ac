"""Seed the end-to-end database: run as `python -m tests.e2e.seed` with DATABASE_URL set.

Builds, through the factories and the exams/delivery services, one school unit with a proctor,
a published subtest (single choice, multiple choice, text entry, two extended-text items) and five
sittings today: "browser" (two students, released by the proctor during the test), "faults"
(eight students, released up front), "client" (eight students for the exam-client tests and
the proctor-room form, released up front), "closing" (two students, released up front, for
submitting for a student and ending the sitting) and "outages" (eleven students for the outage
and deploy tests, released up front; the deploy test takes the last three, as the outage tests
copy the database and must not find its saves). Prints what the tests need as
one JSON object on stdout.
"""

from __future__ import annotations

import datetime
import json
import os
import sys


def seed() -> dict:
    from django.utils import timezone

    from delivery.attempts import attempt_release
    from delivery.student_auth import credential_issue
    from exams.day_passwords import day_password_for
    from exams.models import ItemKind
    from exams.preparation.assignments import assignments_create
    from exams.preparation.rooms import room_create
    from exams.preparation.sittings import sitting_create
    from schools.roles import Role
    from schools.services import role_assign
    from tests.factories import (
        PASSWORD,
        ItemFactory,
        OrganiserFactory,
        SchoolUnitFactory,
        SubtestFactory,
        TestDefinitionFactory,
        staff_member,
        student,
    )

    tag = os.environ.get("E2E_TAG", "e2e")
    unit = SchoolUnitFactory(organiser=OrganiserFactory(), name="Ekskolan")
    head = staff_member(unit, duty_role="Rektor", username=f"{tag}-head")
    role_assign(actor=None, person=head.person, school_unit=unit, role=Role.HEAD_TEACHER)
    proctor = staff_member(unit, duty_role="Lärare", username=f"{tag}-proctor")
    role_assign(actor=None, person=proctor.person, school_unit=unit, role=Role.PROCTOR)

    # Open all day, so the suite runs at any hour; the sitting itself starts early today.
    subtest = SubtestFactory(
        test=TestDefinitionFactory(title="Matematik åk 9"),
        title="Delprov B",
        duration_minutes=90,
        opens_at=datetime.time(0, 0),
        closes_at=datetime.time(23, 59, 59),
    )
    choices = [{"id": "A", "html": "12"}, {"id": "B", "html": "14"}, {"id": "C", "html": "16"}]
    specs = [
        (ItemKind.SINGLE_CHOICE, "<p>Vad är 7 + 7?</p>", choices, ["B"]),
        (ItemKind.EXTENDED_TEXT, "<p>Förklara hur du tänkte när du löste uppgift 1.</p>", [], []),
        (ItemKind.MULTIPLE_CHOICE, "<p>Vilka tal är jämna?</p>", choices, ["A", "B", "C"]),
        (ItemKind.TEXT_ENTRY, "<p>Skriv talet sju med bokstäver.</p>", [], ["sju"]),
        (ItemKind.EXTENDED_TEXT, "<p>Beskriv en triangel med egna ord.</p>", [], []),
    ]
    items = [
        ItemFactory(
            subtest=subtest, position=i, kind=kind, content_html=html, choices=ch, answer_key=key
        )
        for i, (kind, html, ch, key) in enumerate(specs)
    ]
    names = [
        ("Alva", "Lind"),
        ("Bo", "Ek"),
        *[("Elev", f"Fel{n}") for n in range(1, 9)],
        ("Cia", "Ask"),
        ("Dan", "Al"),
        ("Eva", "Rönn"),
        ("Fia", "Lind"),
        ("Gus", "Berg"),
        ("Hedda", "Moe"),
        ("Ivar", "Nyberg"),
        ("Jon", "Sand"),
        ("Kim", "Holm"),
        ("Lo", "Strand"),
        *[("Elev", f"Avbrott{n}") for n in range(1, 12)],
    ]
    persons = []
    for given, family in names:
        person = student(unit)
        person.given_name, person.family_name = given, family
        person.save(update_fields=["given_name", "family_name"])
        persons.append(person)
    assignments_create(actor=head, school_unit=unit, subtest=subtest, persons=persons)
    today = timezone.localdate()
    starts_at = timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 5)))
    groups = {
        "browser": persons[:2],
        "faults": persons[2:10],
        "client": persons[10:18],
        "closing": persons[18:20],
        "outages": persons[20:31],
    }
    sittings = {}
    rooms = {
        "browser": "Sal 12",
        "faults": "Sal 14",
        "client": "Sal 16",
        "closing": "Sal 18",
        "outages": "Sal 20",
    }
    for key, room_name in rooms.items():
        room = room_create(actor=head, school_unit=unit, name=room_name)
        result = sitting_create(
            actor=head,
            school_unit=unit,
            subtest=subtest,
            room=room,
            starts_at=starts_at,
            proctors=[proctor.person],
            students=groups[key],
            is_catch_up=key != "browser",
        )
        if result.students.refused:
            raise RuntimeError(f"students refused: {result.students.refused}")
        sittings[key] = result.sitting
    attempt_release(actor=proctor, sitting=sittings["faults"])
    attempt_release(actor=proctor, sitting=sittings["client"])
    attempt_release(actor=proctor, sitting=sittings["closing"])
    attempt_release(actor=proctor, sitting=sittings["outages"])
    day_password = day_password_for(school_unit=unit, date=today).password

    def login(person) -> dict:
        credential, secret = credential_issue(person=person, reset=True)
        return {
            "name": person.full_name,
            "person": str(person.public_id),
            "username": credential.username,
            "password": secret,
        }

    return {
        "unit": str(unit.public_id),
        "proctor": {"username": proctor.username, "password": PASSWORD},
        "head": {"username": head.username, "password": PASSWORD},
        "day_password": day_password,
        "items": [{"id": str(i.public_id), "kind": i.kind} for i in items],
        "sittings": {
            key: {
                "id": str(sitting.public_id),
                "room": sitting.room.name,
                "students": [login(p) for p in groups[key]],
            }
            for key, sitting in sittings.items()
        },
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "provplattform.settings")
    import django

    django.setup()
    from django.db import transaction

    with transaction.atomic():
        data = seed()
    sys.stdout.write(json.dumps(data) + "\n")


if __name__ == "__main__":
    main()
