"""Demo data for the preparation before the day: rooms, registrations, assignments, sittings
today inside opening hours (so a live sitting can run at once), proctors, today's day password,
an adjustment and (at the Norwegian unit) an exemption. Idempotent: running it again finds what it
made before. Uses the demo test definitions when they are available.
"""

from __future__ import annotations

import contextlib
import datetime

from django.db import transaction
from django.utils import timezone

from exams.day_passwords import day_password_for, display, unit_today, unit_zone
from exams.definitions.demo import load_demo_definitions
from exams.models import (
    AdjustmentKind,
    Assignment,
    DefinitionStatus,
    Exemption,
    Item,
    ItemKind,
    Programme,
    Room,
    Sitting,
    SittingStatus,
    Subtest,
    TestDefinition,
)
from exams.preparation.assignments import (
    assignments_create,
    assignments_sync_mandatory,
    registration_create,
)
from exams.preparation.common import ExamRefused
from exams.preparation.decisions import adjustment_set, exemption_create
from exams.preparation.rules import TECHNICAL_KEYS
from exams.preparation.sittings import checklist_acknowledge, sitting_add_students, sitting_create
from schools.models import Person, SchoolUnit

ROOMS = {"demo-unit-ek": ["Sal 101", "Aulan"], "demo-unit-fjell": ["Rom 1"]}
PROCTORS = {
    "demo-unit-ek": ("provledare", "larare"),
    "demo-unit-fjell": ("larer.fjell", "rektor.fjell"),
}
HEAD = {"demo-unit-ek": "rektor", "demo-unit-fjell": "rektor.fjell"}


def _load_definitions() -> None:
    load_demo_definitions()


def _fallback_test(programme: str, grade: int, today: datetime.date) -> TestDefinition:
    """A small published test, used only when no demo definition of the programme exists."""
    code = f"demo-prep-{programme}"
    test, created = TestDefinition.objects.get_or_create(
        code=code,
        version=1,
        defaults={
            "programme": programme,
            "title": "Demoprov" if programme == Programme.SE_NATIONAL else "Demoprøve",
            "subject": "Matematik" if programme == Programme.SE_NATIONAL else "Lesing",
            "grade": grade,
            "status": DefinitionStatus.PUBLISHED,
            "published_at": timezone.now(),
            "window_start": today - datetime.timedelta(days=7),
            "window_end": today + datetime.timedelta(days=30),
        },
    )
    if created:
        subtest = Subtest.objects.create(
            test=test,
            position=1,
            code="A",
            title="Delprov A",
            permitted_adjustments=[AdjustmentKind.EXTENDED_TIME, AdjustmentKind.TOOLS],
            permitted_tools=["text_to_speech", "spell_check"],
        )
        Item.objects.create(
            subtest=subtest,
            position=1,
            identifier="a1",
            kind=ItemKind.SINGLE_CHOICE,
            content_html="<p>Vad är 3 + 4?</p>",
            choices=[{"id": "A", "html": "6"}, {"id": "B", "html": "7"}],
            answer_key=["B"],
        )
        Item.objects.create(
            subtest=subtest,
            position=2,
            identifier="a2",
            kind=ItemKind.NUMERIC,
            content_html="<p>Hälften av 9?</p>",
            answer_key={"value": 4.5, "tolerance": 0.01},
        )
        Item.objects.create(
            subtest=subtest,
            position=3,
            identifier="a3",
            kind=ItemKind.EXTENDED_TEXT,
            max_points=3,
            content_html="<p>Förklara hur du tänkte.</p>",
        )
    return test


def _test_for(unit: SchoolUnit, programme: str, grade: int, today) -> TestDefinition:
    tests = TestDefinition.objects.filter(programme=programme, status=DefinitionStatus.PUBLISHED)
    test = (
        tests.filter(grade=grade, subtests__on_platform=True).order_by("-version").first()
        or tests.filter(subtests__on_platform=True).order_by("-version").first()
        or _fallback_test(programme, grade, today)
    )
    if not (test.window_start <= today <= test.window_end):
        # Demo only: move the window so that today's sittings are inside it.
        span = max((test.window_end - test.window_start).days, 14)
        test.window_start = today - datetime.timedelta(days=3)
        test.window_end = test.window_start + datetime.timedelta(days=span)
        test.save(update_fields=["window_start", "window_end", "modified"])
        Subtest.objects.filter(test=test).update(window_start=None, window_end=None)
    return test


def _start_today(unit: SchoolUnit, subtest: Subtest, today: datetime.date) -> datetime.datetime:
    """Now, rounded down to the quarter hour, held inside the subtest's opening hours."""
    zone = unit_zone(unit)
    now = timezone.now().astimezone(zone)
    earliest = datetime.datetime.combine(today, subtest.opens_at, tzinfo=zone)
    latest = datetime.datetime.combine(today, subtest.closes_at, tzinfo=zone) - datetime.timedelta(
        minutes=subtest.duration_minutes
    )
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    return max(earliest, min(start, latest))


def _sitting(unit, subtest, room, starts_at, proctor, backup, students) -> Sitting:
    zone = unit_zone(unit)
    day = starts_at.astimezone(zone).date()
    existing = [
        s
        for s in Sitting.objects.filter(
            school_unit=unit, subtest=subtest, room=room, status=SittingStatus.SCHEDULED
        )
        if s.starts_at.astimezone(zone).date() == day
    ]
    if existing:
        sitting = existing[0]
        sitting_add_students(actor=None, sitting=sitting, persons=students)
        return sitting
    return sitting_create(
        actor=None,
        school_unit=unit,
        subtest=subtest,
        room=room,
        starts_at=starts_at,
        proctors=[proctor],
        backup_proctors=[backup],
        students=students,
    ).sitting


@transaction.atomic
def seed_exams(ctx: dict) -> dict:
    _load_definitions()
    units: dict[str, SchoolUnit] = ctx["units"]
    staff = ctx["staff"]
    students = ctx["students"]
    made: dict = {"sittings": [], "day_passwords": []}

    for unit_id, programme in (
        ("demo-unit-ek", Programme.SE_NATIONAL),
        ("demo-unit-fjell", Programme.NO_MAPPING),
    ):
        unit = units[unit_id]
        today = unit_today(unit)
        pupils: list[Person] = students[unit_id]
        grade = unit.enrolments.values_list("school_year", flat=True).first() or 9
        test = _test_for(unit, programme, grade, today)
        rooms = [
            Room.objects.get_or_create(school_unit=unit, name=name)[0] for name in ROOMS[unit_id]
        ]
        for voluntary in TestDefinition.objects.filter(
            programme=programme, status=DefinitionStatus.PUBLISHED, mandatory=False
        ):
            # Outside its registration window or already registered: nothing to do.
            with contextlib.suppress(ExamRefused):
                registration_create(actor=None, school_unit=unit, test=voluntary)
        assignments_sync_mandatory(school_unit=unit)
        head = staff[HEAD[unit_id]].person

        if programme == Programme.NO_MAPPING:
            exempt_pupil = pupils[-1]
            if not Exemption.objects.filter(person=exempt_pupil, test=test).exists():
                exemption_create(
                    actor=None,
                    school_unit=unit,
                    person=exempt_pupil,
                    test=test,
                    ground="special_education",
                    decision_reference="Vedtak 2027/14",
                    attested_no_significance=True,
                    decided_by=head,
                )
            pupils = pupils[:-1]

        subtest = test.subtests.filter(on_platform=True).earliest("position")
        assignments_create(actor=None, school_unit=unit, subtest=subtest, persons=pupils)
        assigned = set(
            Assignment.objects.filter(subtest=subtest, school_unit=unit).values_list(
                "person_id", flat=True
            )
        )
        pupils = [p for p in pupils if p.pk in assigned]

        proctor, backup = (staff[name].person for name in PROCTORS[unit_id])
        starts_at = _start_today(unit, subtest, today)
        halves = [pupils[0::2], pupils[1::2]] if len(rooms) > 1 else [pupils]
        for room, group in zip(rooms, halves, strict=False):
            sitting = _sitting(unit, subtest, room, starts_at, proctor, backup, group)
            made["sittings"].append(sitting)

        permits_time = AdjustmentKind.EXTENDED_TIME in (subtest.permitted_adjustments or [])
        if (
            permits_time
            and pupils
            and not pupils[0].adjustments.filter(test=test, subtest=subtest).exists()
        ):
            adjustment_set(
                actor=None,
                school_unit=unit,
                person=pupils[0],
                test=test,
                subtest=subtest,
                extended_percent=25,
                decided_by=head,
            )
        # A second student reads with text to speech and has the questions read aloud, so the
        # demo shows an adjusted tool in the exam client and on the proctor's row.
        permitted = set(subtest.permitted_adjustments or [])
        speech = [t for t in ("text_to_speech",) if t in (subtest.permitted_tools or [])]
        kinds = [k for k in (AdjustmentKind.READ_ALOUD,) if k in permitted]
        if AdjustmentKind.TOOLS not in permitted:
            speech = []
        if (
            (speech or kinds)
            and len(pupils) > 1
            and not pupils[1].adjustments.filter(test=test, subtest=subtest).exists()
        ):
            adjustment_set(
                actor=None,
                school_unit=unit,
                person=pupils[1],
                test=test,
                subtest=subtest,
                tools=speech,
                other_kinds=kinds,
                decided_by=head,
            )

        password = day_password_for(school_unit=unit, date=today)
        made["day_passwords"].append({"unit": unit.name, "password": display(password.password)})
        # The school did its routine: every demo sitting is ready where nothing is wrong.
        ticker = staff[HEAD[unit_id]]
        for sitting in made["sittings"]:
            if sitting.school_unit_id != unit.pk:
                continue
            for key in ("adjustments_reviewed", *TECHNICAL_KEYS):
                checklist_acknowledge(actor=ticker, school_unit=unit, key=key, sitting=sitting)

    return {
        "exams_sittings": made["sittings"],
        "day_password_logins": [
            {
                "username": "—",
                "password": row["password"],
                "role": "Day password",
                "unit": row["unit"],
            }
            for row in made["day_passwords"]
        ],
    }
