"""Seed what the exam-day browser tests need, beside tests/e2e/seed.py: run as
`python -m tests.e2e.seed_examday` with DATABASE_URL set (the e2e database).

One school unit with a proctor and a sitting today, released up front, of a Swedish listening
subtest (calculator, enlarged text and spell check for everyone): an item with a sound (a
generated WAV tone, a test asset) that may be played twice, and a text item. Three students:
one with a text-to-speech adjustment, two without. Prints what the tests need as one JSON object
on stdout.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import os
import sys
import wave

SOUND_SECONDS = 1.2


def tone_wav(seconds: float = SOUND_SECONDS, rate: int = 8000) -> bytes:
    """A short 440 Hz tone as an 8-bit mono WAV file."""
    frames = bytes(
        int(128 + 60 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(frames)
    return buffer.getvalue()


def seed() -> dict:
    # tests/e2e/seed.py ran the factories in another process: start their numbering far from it.
    import factory
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from delivery.attempts import attempt_release
    from delivery.student_auth import credential_issue
    from exams.day_passwords import day_password_for
    from exams.definitions.selectors import asset_url
    from exams.models import ItemAsset, ItemKind
    from exams.preparation.assignments import assignments_create
    from exams.preparation.decisions import adjustment_set
    from exams.preparation.rooms import room_create
    from exams.preparation.sittings import sitting_create
    from schools.roles import Role
    from schools.services import role_assign
    from tests import factories
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

    for value in vars(factories).values():
        if isinstance(value, type) and issubclass(value, factory.django.DjangoModelFactory):
            value.reset_sequence(50_000)

    tag = os.environ.get("E2E_TAG", "e2e")
    unit = SchoolUnitFactory(organiser=OrganiserFactory(), name="Lyssnaskolan")
    head = staff_member(unit, duty_role="Rektor", username=f"{tag}-listen-head")
    role_assign(actor=None, person=head.person, school_unit=unit, role=Role.HEAD_TEACHER)
    proctor = staff_member(unit, duty_role="Lärare", username=f"{tag}-listen-proctor")
    role_assign(actor=None, person=proctor.person, school_unit=unit, role=Role.PROCTOR)

    test = TestDefinitionFactory(title="Svenska åk 6", lang="sv")
    subtest = SubtestFactory(
        test=test,
        title="Delprov C (hörförståelse)",
        duration_minutes=60,
        opens_at=datetime.time(0, 0),
        closes_at=datetime.time(23, 59, 59),
        tools=["calculator", "enlarged_text", "spell_check"],
        permitted_adjustments=["tools", "read_aloud"],
        permitted_tools=["text_to_speech"],
    )
    asset = ItemAsset(test=test, path="audio/ljud.wav")
    asset.file.save("ljud.wav", ContentFile(tone_wav()), save=False)
    asset.save()
    sound = ItemFactory(
        subtest=subtest,
        position=0,
        kind=ItemKind.SINGLE_CHOICE,
        content_html=(
            f'<p>Lyssna på ljudet. Vilken ton hör du?</p><audio src="{asset_url(asset)}"></audio>'
        ),
        choices=[{"id": "A", "html": "En hög ton"}, {"id": "B", "html": "En låg ton"}],
        answer_key=["A"],
        audio_plays=2,
    )
    ItemFactory(
        subtest=subtest,
        position=1,
        kind=ItemKind.EXTENDED_TEXT,
        content_html="<p>Skriv om något du har hört i dag.</p>",
        choices=[],
        answer_key=[],
    )
    persons = []
    for given, family in (("Tove", "Lyssnar"), ("Ulf", "Talsyntes"), ("Vera", "Utan")):
        person = student(unit)
        person.given_name, person.family_name = given, family
        person.save(update_fields=["given_name", "family_name"])
        persons.append(person)
    assignments_create(actor=head, school_unit=unit, subtest=subtest, persons=persons)
    adjustment_set(
        actor=head,
        school_unit=unit,
        person=persons[1],
        test=test,
        tools=["text_to_speech"],
        other_kinds=["read_aloud"],
        decided_by=head.person,
    )
    today = timezone.localdate()
    room = room_create(actor=head, school_unit=unit, name="Hörsalen")
    result = sitting_create(
        actor=head,
        school_unit=unit,
        subtest=subtest,
        room=room,
        starts_at=timezone.make_aware(datetime.datetime.combine(today, datetime.time(0, 5))),
        proctors=[proctor.person],
        students=persons,
    )
    if result.students.refused:
        raise RuntimeError(f"students refused: {result.students.refused}")
    attempt_release(actor=proctor, sitting=result.sitting)

    def login(person) -> dict:
        credential, secret = credential_issue(person=person, reset=True)
        return {"name": person.full_name, "username": credential.username, "password": secret}

    return {
        "unit": str(unit.public_id),
        "sitting": str(result.sitting.public_id),
        "proctor": {"username": proctor.username, "password": PASSWORD},
        "day_password": day_password_for(school_unit=unit, date=today).password,
        "sound_item": str(sound.public_id),
        "listener": login(persons[0]),
        "with_speech": login(persons[1]),
        "without_speech": login(persons[2]),
        "sound_seconds": SOUND_SECONDS,
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
