"""Writes on the day's sittings: when and where, who is placed in them and who proctors,
postponements, paper replacement tests, and the readiness items ticked per sitting.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.day_passwords import unit_zone
from exams.models import (
    Assignment,
    ChecklistAcknowledgement,
    PaperReplacement,
    Room,
    Sitting,
    SittingProctor,
    SittingStatus,
    SittingStudent,
    Subtest,
    SubtestStart,
)
from exams.preparation.common import (
    BulkSummary,
    ExamRefused,
    check_programme,
    check_published,
    check_same_unit,
    person_entry,
    require_capability,
)
from exams.preparation.rules import (
    CHECKLIST_KEYS,
    TECHNICAL_KEYS,
    exempt_ids,
    proctor_refusal,
    result_enterer_refusal,
    started_ids,
)
from provplattform.audit import AuditAction, audit_record
from schools.models import Person, SchoolUnit, User
from schools.roles import Capability

# --- sittings -------------------------------------------------------------------------------------


def _check_sitting_time(
    subtest: Subtest, starts_at: datetime.datetime, school_unit: SchoolUnit
) -> None:
    """Inside the window, starting no earlier than the subtest opens and ending (regular time)
    no later than it closes."""
    if timezone.is_naive(starts_at):
        raise ExamRefused(_("The start time needs a time zone."))
    local = starts_at.astimezone(unit_zone(school_unit))
    start, end = subtest.effective_window
    if not (start <= local.date() <= end):
        raise ExamRefused(
            _("The date must be inside the test window, %(start)s to %(end)s.")
            % {"start": start.isoformat(), "end": end.isoformat()}
        )
    ends = datetime.datetime.combine(local.date(), local.time()) + datetime.timedelta(
        minutes=subtest.duration_minutes
    )
    closes = datetime.datetime.combine(local.date(), subtest.closes_at)
    if local.time().replace(tzinfo=None) < subtest.opens_at or ends > closes:
        raise ExamRefused(
            _("The sitting must start at %(opens)s or later and end by %(closes)s.")
            % {
                "opens": subtest.opens_at.strftime("%H:%M"),
                "closes": subtest.closes_at.strftime("%H:%M"),
            }
        )


def _check_closing_limit(
    subtest: Subtest, starts_at: datetime.datetime, closes_at: datetime.datetime | None, school_unit
) -> None:
    """A sitting's own closing limit (when tests still open are submitted) lies on its day, no
    earlier than its regular end and no later than the subtest's opening hours end."""
    if closes_at is None:
        return
    if timezone.is_naive(closes_at):
        raise ExamRefused(_("The closing time needs a time zone."))
    zone = unit_zone(school_unit)
    day = starts_at.astimezone(zone).date()
    regular_end = starts_at + datetime.timedelta(minutes=subtest.duration_minutes)
    day_closes = datetime.datetime.combine(day, subtest.closes_at, tzinfo=zone)
    if not (regular_end <= closes_at <= day_closes):
        raise ExamRefused(
            _("The sitting must close between its regular end (%(end)s) and %(closes)s.")
            % {
                "end": regular_end.astimezone(zone).strftime("%H:%M"),
                "closes": subtest.closes_at.strftime("%H:%M"),
            }
        )


def _place_students(
    *, actor: User | None, sitting: Sitting, persons: Iterable[Person]
) -> BulkSummary:
    """Invariant: nobody sits a subtest twice. A student who has started it (or did it on paper)
    is never placed again; a student is in at most one scheduled sitting of it; a student absent
    from a sitting that has ended goes only to a catch-up sitting."""
    summary = BulkSummary()
    subtest = sitting.subtest
    assigned = set(
        Assignment.objects.filter(subtest=subtest, school_unit=sitting.school_unit).values_list(
            "person_id", flat=True
        )
    )
    exempt = exempt_ids(subtest)
    started = set(SubtestStart.objects.filter(subtest=subtest).values_list("person_id", flat=True))
    on_paper = set(
        PaperReplacement.objects.filter(subtest=subtest).values_list("person_id", flat=True)
    )
    others = SittingStudent.objects.filter(sitting__subtest=subtest).exclude(sitting=sitting)
    elsewhere = set(
        others.filter(sitting__status=SittingStatus.SCHEDULED).values_list("person_id", flat=True)
    )
    missed = set(
        others.filter(sitting__status=SittingStatus.ENDED).values_list("person_id", flat=True)
    )
    here = set(sitting.placements.values_list("person_id", flat=True))
    for person in persons:
        if person.pk in exempt:
            reason = _("Exempt from this test.")
        elif person.pk not in assigned:
            reason = _("Not assigned this subtest.")
        elif person.pk in here:
            reason = _("Already in this sitting.")
        elif person.pk in started:
            reason = _("Has already started this subtest.")
        elif person.pk in on_paper:
            reason = _("Did this subtest as a paper replacement test.")
        elif person.pk in elsewhere:
            reason = _("Already placed in another sitting of this subtest.")
        elif person.pk in missed and not sitting.is_catch_up:
            reason = _("Absent from an earlier sitting: place the student in a catch-up sitting.")
        else:
            reason = None
        if reason:
            summary.refused.append(person_entry(person, reason=reason))
            continue
        SittingStudent.objects.create(sitting=sitting, person=person)
        here.add(person.pk)
        audit_record(
            actor=actor,
            action=AuditAction.SITTING_STUDENT_ADD,
            target=sitting,
            after={"person": person},
            scope=sitting.school_unit,
        )
        summary.changed.append(person_entry(person, action="placed"))
    return summary


def _add_proctor(*, actor: User | None, sitting: Sitting, person: Person, is_backup: bool) -> None:
    refusal = proctor_refusal(person, sitting.school_unit)
    if refusal:
        raise ExamRefused(refusal)
    proctorship, created = SittingProctor.objects.get_or_create(
        sitting=sitting, person=person, defaults={"is_backup": is_backup}
    )
    if not created and proctorship.is_backup != is_backup:
        proctorship.is_backup = is_backup
        proctorship.save(update_fields=["is_backup"])
    audit_record(
        actor=actor,
        action=AuditAction.SITTING_PROCTOR_ADD,
        target=sitting,
        after={"person": person, "is_backup": is_backup},
        scope=sitting.school_unit,
    )


@dataclass
class SittingResult:
    sitting: Sitting
    students: BulkSummary


@transaction.atomic
def sitting_create(
    *,
    actor: User | None,
    school_unit: SchoolUnit,
    subtest: Subtest,
    room: Room,
    starts_at: datetime.datetime,
    proctors: Iterable[Person],
    backup_proctors: Iterable[Person] = (),
    students: Iterable[Person] = (),
    is_catch_up: bool = False,
    closes_at: datetime.datetime | None = None,
) -> SittingResult:
    """Schedule a sitting.

    Invariant: inside the subtest's window and opening hours, in a room of the unit, with at least
    one proctor who was transferred and holds the proctor role there; only assigned students. Its
    own closing limit (`closes_at`, optional) lies between its regular end and the day's closing.
    """
    require_capability(actor, school_unit, Capability.ADMINISTER_TESTS)
    check_same_unit(room, school_unit)
    check_published(subtest.test)
    check_programme(subtest.test, school_unit)
    _check_sitting_time(subtest, starts_at, school_unit)
    _check_closing_limit(subtest, starts_at, closes_at, school_unit)
    proctors, backup_proctors = list(proctors), list(backup_proctors)
    if not proctors:
        raise ExamRefused(_("A sitting needs at least one proctor."))
    sitting = Sitting.objects.create(
        school_unit=school_unit,
        subtest=subtest,
        room=room,
        starts_at=starts_at,
        is_catch_up=is_catch_up,
        closes_at=closes_at,
    )
    audit_record(
        actor=actor,
        action=AuditAction.SITTING_CREATE,
        target=sitting,
        after=_sitting_snapshot(sitting),
        scope=school_unit,
    )
    for person in proctors:
        _add_proctor(actor=actor, sitting=sitting, person=person, is_backup=False)
    for person in backup_proctors:
        _add_proctor(actor=actor, sitting=sitting, person=person, is_backup=True)
    summary = _place_students(actor=actor, sitting=sitting, persons=students)
    return SittingResult(sitting=sitting, students=summary)


def _sitting_snapshot(sitting: Sitting) -> dict:
    return {
        "subtest": str(sitting.subtest.public_id),
        "room": sitting.room.name,
        "starts_at": sitting.starts_at.isoformat(),
        "status": sitting.status,
        "is_catch_up": sitting.is_catch_up,
        "closes_at": sitting.closes_at.isoformat() if sitting.closes_at else None,
    }


def _check_editable(sitting: Sitting) -> None:
    if sitting.status != SittingStatus.SCHEDULED:
        raise ExamRefused(_("The sitting is no longer scheduled."))


@transaction.atomic
def sitting_add_students(
    *, actor: User | None, sitting: Sitting, persons: Iterable[Person]
) -> BulkSummary:
    """Place assigned students in the sitting (and so in its room)."""
    require_capability(actor, sitting.school_unit, Capability.ADMINISTER_TESTS)
    _check_editable(sitting)
    return _place_students(actor=actor, sitting=sitting, persons=persons)


@transaction.atomic
def sitting_remove_student(
    *, actor: User | None, sitting: Sitting, person: Person, reason: str = ""
) -> None:
    require_capability(actor, sitting.school_unit, Capability.ADMINISTER_TESTS)
    deleted, _n = SittingStudent.objects.filter(sitting=sitting, person=person).delete()
    if deleted:
        audit_record(
            actor=actor,
            action=AuditAction.SITTING_STUDENT_REMOVE,
            target=sitting,
            before={"person": person},
            reason=reason,
            scope=sitting.school_unit,
        )


@transaction.atomic
def sitting_add_proctor(
    *, actor: User | None, sitting: Sitting, person: Person, is_backup: bool = False
) -> None:
    """Only a transferred person holding the proctor role at the unit may proctor."""
    require_capability(actor, sitting.school_unit, Capability.ADMINISTER_TESTS)
    _check_editable(sitting)
    _add_proctor(actor=actor, sitting=sitting, person=person, is_backup=is_backup)


@transaction.atomic
def sitting_set_result_enterer(
    *, actor: User | None, sitting: Sitting, person: Person | None
) -> Sitting:
    """Name who enters the results of an off-platform subtest's sitting (None to clear).

    Invariant: only for a subtest done outside the platform, and only a person the organiser
    transferred to the unit who may assess or prepare grading there.
    """
    require_capability(actor, sitting.school_unit, Capability.ADMINISTER_TESTS)
    if sitting.subtest.on_platform:
        raise ExamRefused(_("Results of this subtest are scored on the platform."))
    if person is not None:
        refusal = result_enterer_refusal(person, sitting.school_unit)
        if refusal:
            raise ExamRefused(refusal)
    before = sitting.results_entered_by
    sitting.results_entered_by = person
    sitting.save(update_fields=["results_entered_by", "modified"])
    audit_record(
        actor=actor,
        action=AuditAction.SITTING_RESULT_ENTERER,
        target=sitting,
        before={"person": before},
        after={"person": person},
        scope=sitting.school_unit,
    )
    return sitting


@transaction.atomic
def sitting_remove_proctor(*, actor: User | None, sitting: Sitting, person: Person) -> None:
    """Invariant: a scheduled sitting keeps at least one (non-backup) proctor."""
    require_capability(actor, sitting.school_unit, Capability.ADMINISTER_TESTS)
    proctorship = SittingProctor.objects.filter(sitting=sitting, person=person).first()
    if proctorship is None:
        return
    mains = SittingProctor.objects.filter(sitting=sitting, is_backup=False)
    if not proctorship.is_backup and mains.count() <= 1:
        raise ExamRefused(_("A sitting needs at least one proctor."))
    proctorship.delete()
    audit_record(
        actor=actor,
        action=AuditAction.SITTING_PROCTOR_REMOVE,
        target=sitting,
        before={"person": person, "is_backup": proctorship.is_backup},
        scope=sitting.school_unit,
    )


@transaction.atomic
def sitting_postpone(
    *,
    actor: User | None,
    sitting: Sitting,
    starts_at: datetime.datetime,
    reason: str,
    room: Room | None = None,
) -> Sitting:
    """Move a sitting to a new time (head teacher or test administration).

    Invariant: the new sitting obeys the same time rules; nobody sits the subtest twice. Students
    who have not started the subtest move to the new sitting; students who have started it stay
    (the old sitting then stays scheduled, for them to finish and the proctor to end). Proctors,
    who enters the results and the closing limit (moved with the start) carry over; the old
    sitting points at the new one, and is marked postponed when nobody stays in it.
    """
    school_unit = sitting.school_unit
    require_capability(actor, school_unit, Capability.ADMINISTER_TESTS)
    _check_editable(sitting)
    if not (reason or "").strip():
        raise ExamRefused(_("Give a reason for postponing."))
    room = room or sitting.room
    check_same_unit(room, school_unit)
    _check_sitting_time(sitting.subtest, starts_at, school_unit)
    closes_at = None
    if sitting.closes_at is not None:
        closes_at = sitting.closes_at + (starts_at - sitting.starts_at)
        try:
            _check_closing_limit(sitting.subtest, starts_at, closes_at, school_unit)
        except ExamRefused:
            closes_at = None  # past the new day's opening hours: the day's closing applies
    new = Sitting.objects.create(
        school_unit=school_unit,
        subtest=sitting.subtest,
        room=room,
        starts_at=starts_at,
        closes_at=closes_at,
        is_catch_up=sitting.is_catch_up,
        results_entered_by=sitting.results_entered_by,
    )
    started = started_ids(subtest=sitting.subtest)
    placed = list(sitting.placements.values_list("person_id", flat=True))
    moving = [pid for pid in placed if pid not in started]
    staying = [pid for pid in placed if pid in started]
    SittingStudent.objects.bulk_create(
        [SittingStudent(sitting=new, person_id=pid) for pid in moving]
    )
    SittingProctor.objects.bulk_create(
        [
            SittingProctor(sitting=new, person_id=pid, is_backup=backup)
            for pid, backup in sitting.proctorships.values_list("person_id", "is_backup")
        ]
    )
    before = _sitting_snapshot(sitting)
    if staying:
        sitting.placements.filter(person_id__in=moving).delete()
    else:
        sitting.status = SittingStatus.POSTPONED
    sitting.postponed_to = new
    sitting.save(update_fields=["status", "postponed_to", "modified"])
    public = dict(Person.objects.filter(pk__in=placed).values_list("pk", "public_id"))
    audit_record(
        actor=actor,
        action=AuditAction.SITTING_POSTPONE,
        target=sitting,
        before=before,
        after=_sitting_snapshot(new)
        | {
            "sitting": new,
            "moved": [str(public[pid]) for pid in moving],
            "stayed": [str(public[pid]) for pid in staying],
        },
        reason=reason,
        scope=school_unit,
    )
    return new


@transaction.atomic
def paper_replacement_record(
    *, actor: User | None, school_unit: SchoolUnit, subtest: Subtest, person: Person, note: str = ""
) -> PaperReplacement:
    """Record that a student did the subtest on paper; grading enters the result later.

    Invariant: nobody sits a subtest twice, so never for a student who started it on the platform.
    """
    require_capability(actor, school_unit, Capability.ADMINISTER_TESTS)
    if not Assignment.objects.filter(
        subtest=subtest, person=person, school_unit=school_unit
    ).exists():
        raise ExamRefused(_("Not assigned this subtest."))
    if PaperReplacement.objects.filter(subtest=subtest, person=person).exists():
        raise ExamRefused(_("A paper replacement test is already recorded."))
    if SubtestStart.objects.filter(subtest=subtest, person=person).exists():
        # Sit-once rule: a student who started the subtest on the platform finishes it there.
        raise ExamRefused(_("Has already started this subtest on the platform."))
    record = PaperReplacement.objects.create(
        school_unit=school_unit, subtest=subtest, person=person, recorded_by=actor, note=note
    )
    audit_record(
        actor=actor,
        action=AuditAction.PAPER_REPLACEMENT_RECORD,
        target=record,
        after={"subtest": subtest, "person": person},
        reason=note,
        scope=school_unit,
    )
    return record


# --- readiness ------------------------------------------------------------------------------------


@transaction.atomic
def checklist_acknowledge(
    *, actor: User | None, school_unit: SchoolUnit, key: str, sitting: Sitting | None = None
) -> ChecklistAcknowledgement:
    """Confirm a readiness item by hand (an item of the technical checklist, adjustments
    reviewed), recorded with the person who ticked it.

    Invariant: a confirmation is for one sitting; it says nothing about any other sitting.
    """
    require_capability(actor, school_unit, Capability.ADMINISTER_TESTS)
    if key not in CHECKLIST_KEYS:
        raise ExamRefused(_("Unknown checklist item."))
    if actor is None and key in TECHNICAL_KEYS:
        raise ExamRefused(_("Each item of the technical checklist is ticked by a named person."))
    if sitting is None:
        raise ExamRefused(_("Choose the sitting this confirms."))
    check_same_unit(sitting, school_unit)
    ack, created = ChecklistAcknowledgement.objects.get_or_create(
        school_unit=school_unit,
        sitting=sitting,
        key=key,
        defaults={"acknowledged_by": actor},
    )
    if created:
        audit_record(
            actor=actor,
            action=AuditAction.CHECKLIST_ACKNOWLEDGE,
            target=ack,
            after={"key": key, "sitting": sitting},
            scope=school_unit,
        )
    return ack
