"""Seed a benchmark database: one school unit, one sitting today, N students with attempts."""

from __future__ import annotations

import datetime
import secrets
import uuid


def seed_sitting(*, students: int, items: int = 10, working: bool = True) -> dict:
    """{"sitting", "persons", "attempts": [(attempt uuid, device token)], "items": [uuid]}."""
    from django.utils import timezone

    from delivery.models import Attempt, AttemptStatus
    from exams.models import (
        DayPassword,
        Item,
        ItemKind,
        Room,
        Sitting,
        SittingStudent,
        Subtest,
        TestDefinition,
    )
    from schools.models import Enrolment, Organiser, Person, SchoolUnit

    tag = uuid.uuid4().hex[:8]
    today = timezone.localdate()
    organiser = Organiser.objects.create(external_id=f"bench-{tag}", name="Bench")
    unit = SchoolUnit.objects.create(
        organiser=organiser,
        external_id=f"u-{tag}",
        name="Benchskolan",
        school_unit_code=str(uuid.uuid4().int)[:10],
    )
    test = TestDefinition.objects.create(
        code=f"bench-{tag}",
        programme="se_national",
        title="Bench",
        subject="Matematik",
        grade=9,
        status="published",
        window_start=today - datetime.timedelta(days=1),
        window_end=today + datetime.timedelta(days=1),
    )
    subtest = Subtest.objects.create(test=test, code="A", title="Delprov A", duration_minutes=240)
    item_rows = Item.objects.bulk_create(
        [
            Item(
                subtest=subtest,
                position=i,
                identifier=f"i{i}",
                kind=ItemKind.EXTENDED_TEXT,
                content_html="<p>Skriv</p>",
            )
            for i in range(items)
        ]
    )
    room = Room.objects.create(school_unit=unit, name="Aulan")
    now = timezone.now()
    sitting = Sitting.objects.create(
        school_unit=unit,
        subtest=subtest,
        room=room,
        starts_at=timezone.make_aware(datetime.datetime.combine(today, datetime.time(9, 0))),
    )
    DayPassword.objects.update_or_create(
        school_unit=unit, date=today, defaults={"password": "BENCH234"}
    )
    persons = Person.objects.bulk_create(
        [
            Person(
                organiser=organiser, external_id=f"s{n}", given_name=f"Elev{n}", family_name="Bench"
            )
            for n in range(students)
        ]
    )
    Enrolment.objects.bulk_create(
        [Enrolment(person=p, school_unit=unit, school_year=9) for p in persons]
    )
    SittingStudent.objects.bulk_create([SittingStudent(sitting=sitting, person=p) for p in persons])
    attempts = []
    if working:
        attempts = Attempt.objects.bulk_create(
            [
                Attempt(
                    sitting=sitting,
                    person=p,
                    status=AttemptStatus.WORKING,
                    released_at=now,
                    started_at=now,
                    duration_seconds=4 * 3600,
                    deadline=now + datetime.timedelta(hours=4),
                    device_token=secrets.token_urlsafe(32),
                )
                for p in persons
            ]
        )
    return {
        "sitting": sitting,
        "persons": persons,
        "attempts": [(str(a.public_id), a.device_token) for a in attempts],
        "items": [str(i.public_id) for i in item_rows],
    }
