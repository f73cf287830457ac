"""Writes on who sits what: registrations for voluntary tests, the automatic assignment of
mandatory ones, assignments by hand, corrections, and the moves that follow a student to a new
school unit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from exams.day_passwords import unit_today
from exams.models import (
    Assignment,
    AssignmentSource,
    PaperReplacement,
    Registration,
    SittingStatus,
    SittingStudent,
    Subtest,
    TestDefinition,
)
from exams.preparation.common import (
    BulkSummary,
    ExamRefused,
    check_programme,
    check_published,
    person_entry,
    require_capability,
)
from exams.preparation.rules import (
    assignment_window_refusal,
    binding_tests,
    enrolled_ids,
    exempt_ids,
    has_started,
    sat_earlier_version_ids,
    started_ids,
)
from provplattform.audit import AuditAction, audit_record, audit_record_many
from schools.models import Enrolment, Organiser, Person, SchoolUnit, User
from schools.roles import Capability

# --- registration and automatic assignment --------------------------------------------------------


@transaction.atomic
def registration_create(
    *,
    actor: User | None,
    school_unit: SchoolUnit,
    test: TestDefinition,
    today: datetime.date | None = None,
) -> Registration:
    """Register the unit for a voluntary test (påmelding).

    Invariant: only inside the test's registration window; from then on the test is mandatory for
    every student of its grade at the unit, so they are assigned at once.
    """
    require_capability(actor, school_unit, Capability.ADMINISTER_TESTS)
    check_published(test)
    check_programme(test, school_unit)
    if test.mandatory:
        raise ExamRefused(_("The test is mandatory; it needs no registration."))
    today = today or unit_today(school_unit)
    opens, closes = test.registration_opens, test.registration_closes
    if opens is None or closes is None or not (opens <= today <= closes):
        if opens and closes:
            raise ExamRefused(
                _("Registration is open from %(opens)s to %(closes)s.")
                % {"opens": opens.isoformat(), "closes": closes.isoformat()}
            )
        raise ExamRefused(_("The test has no registration window."))
    if Registration.objects.filter(school_unit=school_unit, test=test).exists():
        raise ExamRefused(_("The school unit is already registered for this test."))
    registration = Registration.objects.create(
        school_unit=school_unit, test=test, registered_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.REGISTRATION_CREATE,
        target=registration,
        after={"test": test},
        scope=school_unit,
    )
    assignments_sync_mandatory(school_unit=school_unit, today=today)
    return registration


def _current_enrolment(person_id: int, unit_id: int, today: datetime.date) -> bool:
    return (
        Enrolment.objects.filter(person_id=person_id, school_unit_id=unit_id)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .exists()
    )


def _move_refusal(assignment: Assignment, today: datetime.date, started: set[int]) -> str | None:
    """Why an assignment at another unit cannot follow the student here, or None if it can.

    `started` holds the students who started the assignment's subtest (see `started_ids`).
    """
    if assignment.person_id in started:
        return _("Has already started this subtest at another school unit.")
    if _current_enrolment(assignment.person_id, assignment.school_unit_id, today):
        return _("Assigned at another school unit where the student is still enrolled.")
    return None


def _assignment_move(
    *, actor: User | None, assignment: Assignment, to_unit: SchoolUnit, source: str
) -> None:
    """The student moved: the assignment follows them and they leave the old unit's sittings."""
    old_unit = assignment.school_unit
    person = assignment.person
    placements = SittingStudent.objects.filter(
        sitting__subtest=assignment.subtest,
        sitting__school_unit=old_unit,
        sitting__status=SittingStatus.SCHEDULED,
        person=person,
    ).select_related("sitting")
    for placement in placements:
        audit_record(
            actor=actor,
            action=AuditAction.SITTING_STUDENT_REMOVE,
            target=placement.sitting,
            before={"person": person},
            reason="moved to another school unit",
            scope=old_unit,
        )
        placement.delete()
    assignment.school_unit = to_unit
    assignment.source = source
    assignment.assigned_by = actor
    assignment.save(update_fields=["school_unit", "source", "assigned_by", "modified"])
    before = {"school_unit": str(old_unit.public_id)}
    after = {
        "school_unit": str(to_unit.public_id),
        "subtest": str(assignment.subtest.public_id),
        "person": str(person.public_id),
        "source": source,
    }
    for scope in (old_unit, to_unit):
        audit_record(
            actor=actor,
            action=AuditAction.ASSIGNMENT_MOVE,
            target=assignment,
            before=before,
            after=after,
            scope=scope,
        )


@transaction.atomic
def assignments_sync_mandatory(
    *,
    school_unit: SchoolUnit | None = None,
    organiser: Organiser | None = None,
    today: datetime.date | None = None,
) -> int:
    """Assign mandatory and registered tests to every enrolled student of the grade.

    Invariant: from the day assignment opens until the window closes, every enrolled, non-exempt
    student whose school year is the test's grade holds an assignment for each of its subtests,
    at the unit of their current enrolment: the assignment of a student who moved follows them
    unless they have started the subtest (or are still enrolled at the old unit too).
    Runs from Celery beat and right after each transfer; returns how many assignments it made.
    """
    units = SchoolUnit.objects.filter(removed_at__isnull=True).select_related("organiser")
    if school_unit is not None:
        units = units.filter(pk=school_unit.pk)
    if organiser is not None:
        units = units.filter(organiser=organiser)
    created_total = 0
    for unit in units:
        day = today or unit_today(unit)
        for test in binding_tests(unit, day):
            students = set(
                Enrolment.objects.filter(
                    school_unit=unit, school_year=test.grade, person__removed_at__isnull=True
                )
                .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
                .values_list("person_id", flat=True)
            )
            if not students:
                continue
            for subtest in test.subtests.all():
                if assignment_window_refusal(subtest, day):
                    continue
                have = {
                    a.person_id: a
                    for a in Assignment.objects.filter(
                        subtest=subtest, person_id__in=students
                    ).select_related("person", "subtest", "school_unit")
                }
                # Students who moved here keep their place in the test: the assignment follows
                # them unless they started at the old unit or are still enrolled there.
                movers = [have[pid] for pid in sorted(have) if have[pid].school_unit_id != unit.pk]
                # Most nights nobody moved: then the starts need not be read at all.
                started = started_ids(subtest=subtest) if movers else set()
                for assignment in movers:
                    if not _move_refusal(assignment, day, started):
                        _assignment_move(
                            actor=None,
                            assignment=assignment,
                            to_unit=unit,
                            source=AssignmentSource.AUTOMATIC,
                        )
                missing = students - have.keys()
                if not missing:
                    continue
                missing -= exempt_ids(subtest) | sat_earlier_version_ids(subtest)
                if not missing:
                    continue
                rows = Assignment.objects.bulk_create(
                    [
                        Assignment(
                            school_unit=unit,
                            subtest=subtest,
                            person_id=pid,
                            source=AssignmentSource.AUTOMATIC,
                        )
                        for pid in sorted(missing)
                    ]
                )
                audit_record_many(
                    [
                        {
                            "actor": None,
                            "action": AuditAction.ASSIGNMENT_CREATE,
                            "target": row,
                            "after": {
                                "subtest": subtest,
                                "person": row.person_id,
                                "source": AssignmentSource.AUTOMATIC,
                            },
                            "scope": unit,
                        }
                        for row in rows
                    ]
                )
                created_total += len(rows)
    return created_total


def on_transfer_applied(organiser, run) -> None:
    """schools.hooks callback: students transferred later get their mandatory tests at once."""
    assignments_sync_mandatory(organiser=organiser)


# --- assignment -----------------------------------------------------------------------------------


@transaction.atomic
def assignments_create(
    *,
    actor: User | None,
    school_unit: SchoolUnit,
    subtest: Subtest,
    persons: Iterable[Person],
    source: str = AssignmentSource.STUDENT,
    today: datetime.date | None = None,
) -> BulkSummary:
    """Assign a subtest to students; returns what changed and what was refused, and why.

    Invariant: only from the day assignment opens until the window closes, only students enrolled
    at the unit, never an exempt student, never twice. A student who moved here from another unit
    and has not started takes the assignment along (moved, audited); one who started there, or is
    still enrolled there, is refused.
    """
    require_capability(actor, school_unit, Capability.ADMINISTER_TESTS)
    check_published(subtest.test)
    check_programme(subtest.test, school_unit)
    persons = list(persons)
    summary = BulkSummary()
    today = today or unit_today(school_unit)
    window_refusal = assignment_window_refusal(subtest, today)
    if window_refusal:
        summary.refused = [person_entry(p, reason=window_refusal) for p in persons]
        return summary
    enrolled = enrolled_ids(school_unit, today=today)
    exempt = exempt_ids(subtest)
    started = started_ids(subtest=subtest)
    sat_earlier = sat_earlier_version_ids(subtest)
    have = {
        a.person_id: a
        for a in Assignment.objects.filter(subtest=subtest, person__in=persons).select_related(
            "person", "subtest"
        )
    }
    automatic = 0
    for person in persons:
        elsewhere = have.get(person.pk)
        reason: str | None
        if person.pk not in enrolled:
            reason = _("Not enrolled at this school unit.")
        elif person.pk in exempt:
            reason = _("Exempt from this test.")
        elif person.pk in sat_earlier:
            reason = _("Has already sat an earlier version of this subtest.")
        elif (
            elsewhere is not None
            and elsewhere.school_unit_id == school_unit.pk
            and elsewhere.source == AssignmentSource.AUTOMATIC
        ):
            reason = _("Already assigned automatically: the test is mandatory.")
            automatic += 1
        elif elsewhere is not None and elsewhere.school_unit_id == school_unit.pk:
            reason = _("Already assigned.")
        elif elsewhere is not None:
            reason = _move_refusal(elsewhere, today, started)
            if reason is None:
                _assignment_move(
                    actor=actor, assignment=elsewhere, to_unit=school_unit, source=source
                )
                summary.changed.append(person_entry(person, action="moved"))
                continue
        else:
            reason = None
        if reason:
            summary.refused.append(person_entry(person, reason=reason))
            continue
        assignment = Assignment.objects.create(
            school_unit=school_unit,
            subtest=subtest,
            person=person,
            source=source,
            assigned_by=actor,
        )
        have[person.pk] = assignment
        audit_record(
            actor=actor,
            action=AuditAction.ASSIGNMENT_CREATE,
            target=assignment,
            after={
                "subtest": subtest,
                "person": person,
                "source": source,
            },
            scope=school_unit,
        )
        summary.changed.append(person_entry(person, action="assigned"))
    if automatic:
        summary.notes.append(
            ngettext(
                "This test is mandatory: %(count)d of these students already had it, assigned "
                "automatically. Nothing more to do for them.",
                "This test is mandatory: %(count)d of these students already had it, assigned "
                "automatically. Nothing more to do for them.",
                automatic,
            )
            % {"count": automatic}
        )
    return summary


def assignments_create_for_group(
    *, actor: User | None, school_unit: SchoolUnit, subtest: Subtest, group, today=None
) -> BulkSummary:
    """Assign to every current member of a teaching group of the unit."""
    if group.school_unit_id != school_unit.pk:
        raise ExamRefused(_("That belongs to another school unit."))
    return assignments_create(
        actor=actor,
        school_unit=school_unit,
        subtest=subtest,
        persons=group.members.filter(removed_at__isnull=True),
        source=AssignmentSource.GROUP,
        today=today,
    )


def assignments_create_for_grade(
    *, actor: User | None, school_unit: SchoolUnit, subtest: Subtest, today=None
) -> BulkSummary:
    """Assign to every student enrolled in the test's grade at the unit."""
    persons = Person.objects.filter(
        enrolments__school_unit=school_unit,
        enrolments__school_year=subtest.test.grade,
        removed_at__isnull=True,
    ).distinct()
    return assignments_create(
        actor=actor,
        school_unit=school_unit,
        subtest=subtest,
        persons=persons,
        source=AssignmentSource.GRADE,
        today=today,
    )


@transaction.atomic
def assignment_remove(*, actor: User | None, assignment: Assignment, reason: str) -> None:
    """Correct a wrong assignment (also on the day): the student leaves the subtest's sittings.

    Invariant: never once the student has started the subtest (or did it on paper): what they
    did stays assigned, so it is scored and counted.
    """
    school_unit = assignment.school_unit
    require_capability(actor, school_unit, Capability.ADMINISTER_TESTS)
    if not (reason or "").strip():
        raise ExamRefused(_("Give a reason for the correction."))
    if has_started(assignment.person, subtests=[assignment.subtest]):
        raise ExamRefused(_("The student has already started this subtest."))
    if PaperReplacement.objects.filter(
        subtest_id=assignment.subtest_id, person_id=assignment.person_id
    ).exists():
        raise ExamRefused(_("The student did this subtest as a paper replacement test."))
    SittingStudent.objects.filter(
        sitting__subtest=assignment.subtest,
        sitting__school_unit=school_unit,
        person=assignment.person,
    ).delete()
    audit_record(
        actor=actor,
        action=AuditAction.ASSIGNMENT_REMOVE,
        target=assignment,
        before={
            "subtest": assignment.subtest,
            "person": assignment.person,
        },
        reason=reason,
        scope=school_unit,
    )
    assignment.delete()


@transaction.atomic
def assignment_replace(
    *, actor: User | None, assignment: Assignment, subtest: Subtest, reason: str, today=None
) -> Assignment:
    """Replace a wrongly assigned subtest with the right one, in one audited step."""
    school_unit = assignment.school_unit
    person = assignment.person
    assignment_remove(actor=actor, assignment=assignment, reason=reason)
    summary = assignments_create(
        actor=actor, school_unit=school_unit, subtest=subtest, persons=[person], today=today
    )
    if summary.refused:
        raise ExamRefused(summary.refused[0]["reason"])
    return Assignment.objects.get(subtest=subtest, person=person)
