"""Writes on what a school prepares before the day: registrations, assignments, rooms, sittings,
adjustments, exemptions, paper replacements and readiness acknowledgements.

Every service is one transaction, audits what it changes and takes keyword arguments only. The
caller (a view or API) has already resolved the school unit with the right capability; services
still check that every object they are given belongs to that unit and that the rules hold, and
raise `ExamRefused` with a short, specific reason when they do not.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from exams import hooks
from exams.day_passwords import unit_today, unit_zone
from exams.models import (
    PROGRAMME_COUNTRY,
    Adjustment,
    AdjustmentKind,
    Assignment,
    AssignmentSource,
    ChecklistAcknowledgement,
    DefinitionStatus,
    Exemption,
    ExemptionGround,
    PaperReplacement,
    Programme,
    Registration,
    Room,
    Sitting,
    SittingProctor,
    SittingStatus,
    SittingStudent,
    Subtest,
    SubtestStart,
    TestDefinition,
    Tool,
)
from provplattform.audit import AuditAction, audit_record, audit_record_many
from provplattform.errors import Refused
from schools.models import Duty, Enrolment, Organiser, Person, RoleAssignment, SchoolUnit
from schools.roles import Capability, Role, capabilities_of_roles
from schools.selectors import user_has_capability

# The technical routine before a digital sitting (Skolverket's guidance to schools): each item is
# ticked per sitting by a named person. Keys are stored as "technical:<item>".
TECHNICAL_ITEMS: dict[str, object] = {
    "devices": gettext_lazy("A device for every student that meets the technical requirements"),
    "keyboards_headphones": gettext_lazy("A physical keyboard and headphones for every student"),
    "charged": gettext_lazy("Devices charged, with power outlets in the room"),
    "updates_paused": gettext_lazy("No device updates planned during the test"),
    "spare_devices": gettext_lazy("Spare devices, chargers and accessories at hand"),
    "screens": gettext_lazy("The room is furnished so students cannot see each other's screens"),
    "network": gettext_lazy("The network has the capacity for every student at once"),
    "support": gettext_lazy(
        "Who supports whom is settled: at the school and at the organiser, and how to reach them"
    ),
}
TECHNICAL_KEYS = tuple(f"technical:{item}" for item in TECHNICAL_ITEMS)
CHECKLIST_KEYS = ("adjustments_reviewed", *TECHNICAL_KEYS)


class ExamRefused(Refused):
    """A change the rules forbid; the message says why, in the user's language."""


@dataclass
class BulkSummary:
    """What a bulk action changed and what it refused, per student, with the reason."""

    changed: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    # Sentences about the whole action, shown above the counts (e.g. nothing to do: the test is
    # assigned automatically).
    notes: list[str] = field(default_factory=list)

    def refuse_unknown(self, ids: Iterable, found: Iterable[Person]) -> BulkSummary:
        """Ids asked for that are no student of the unit are refused, never silently dropped."""
        known = {str(p.public_id) for p in found}
        for missing in dict.fromkeys(str(i) for i in ids):
            if missing not in known:
                reason = _("Not enrolled at this school unit.")
                self.refused.append({"person": missing, "name": "", "reason": reason})
        return self

    def as_dict(self) -> dict:
        return {
            "changed_count": len(self.changed),
            "refused_count": len(self.refused),
            "changed": self.changed,
            "refused": self.refused,
            "notes": self.notes,
        }


def _person_entry(person: Person, **extra) -> dict:
    return {"person": str(person.public_id), "name": person.full_name, **extra}


# --- shared rules -------------------------------------------------------------------------------


def _require(actor, school_unit: SchoolUnit, capability: Capability) -> None:
    if actor is None:  # system jobs (beat, transfer hook, demo seed)
        return
    if not user_has_capability(user=actor, school_unit=school_unit, capability=capability):
        raise ExamRefused(_("You may not do this at this school unit."))


def _is_administrator(actor, school_unit: SchoolUnit) -> bool:
    return actor is not None and user_has_capability(
        user=actor, school_unit=school_unit, capability=Capability.ADMINISTER_TESTS
    )


def _same_unit(obj, school_unit: SchoolUnit) -> None:
    if obj.school_unit_id != school_unit.pk:
        raise ExamRefused(_("That belongs to another school unit."))


def _check_published(test: TestDefinition) -> None:
    if test.status != DefinitionStatus.PUBLISHED:
        raise ExamRefused(_("The test is not published."))


def _check_programme(test: TestDefinition, school_unit: SchoolUnit) -> None:
    if PROGRAMME_COUNTRY.get(test.programme) != school_unit.organiser.country:
        raise ExamRefused(_("This test is not given in this school unit's country."))


def assignment_opens_on(subtest: Subtest) -> datetime.date:
    """The first day the subtest may be assigned.

    Reference date: the first day of the subtest's window, because students must be assigned
    before they can be placed in a sitting, so the sitting date cannot be the reference.
    """
    start, _end = subtest.effective_window
    return start - datetime.timedelta(days=subtest.test.assignment_opens_days_before)


def _assignment_window_refusal(subtest: Subtest, today: datetime.date) -> str | None:
    opens = assignment_opens_on(subtest)
    _start, end = subtest.effective_window
    if today < opens:
        return _("Assignment opens on %(date)s.") % {"date": opens.isoformat()}
    if today > end:
        return _("The test window closed on %(date)s.") % {"date": end.isoformat()}
    return None


def enrolled_ids(school_unit: SchoolUnit, *, today: datetime.date) -> set[int]:
    return set(
        Enrolment.objects.filter(school_unit=school_unit, person__removed_at__isnull=True)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .values_list("person_id", flat=True)
    )


def _exempt_ids(subtest: Subtest) -> set[int]:
    return set(
        Exemption.objects.filter(test_id=subtest.test_id)
        .filter(Q(subtest=subtest) | Q(subtest__isnull=True))
        .values_list("person_id", flat=True)
    )


def _started_ids(**subtest_lookup) -> set[int]:
    """Students who have started a subtest matching the lookup, or did it on paper instead."""
    started = SubtestStart.objects.filter(**subtest_lookup).values_list("person_id", flat=True)
    on_paper = PaperReplacement.objects.filter(**subtest_lookup).values_list("person_id", flat=True)
    return set(started) | set(on_paper)


def _sat_earlier_version_ids(subtest: Subtest) -> set[int]:
    """Students who sat the same subtest in an earlier version of the test: they are done."""
    return _started_ids(
        subtest__code=subtest.code,
        subtest__test__code=subtest.test.code,
        subtest__test__version__lt=subtest.test.version,
    )


@dataclass(frozen=True)
class StaffStanding:
    """What decides whether a member of staff may serve a unit: transferred there, and roles."""

    transferred: bool
    capabilities: frozenset[Capability]


def staff_standings(school_unit: SchoolUnit, persons: Iterable[Person]) -> dict[int, StaffStanding]:
    """The standing of each of `persons` at the unit, in two queries whatever their number."""
    persons = list(persons)
    ids = [p.pk for p in persons]
    duties = set(
        Duty.objects.filter(school_unit=school_unit, person_id__in=ids).values_list(
            "person_id", flat=True
        )
    )
    roles: dict[int, list[str]] = {}
    for person_id, role in RoleAssignment.objects.filter(
        school_unit=school_unit, person_id__in=ids
    ).values_list("person_id", "role"):
        roles.setdefault(person_id, []).append(role)
    return {
        p.pk: StaffStanding(
            transferred=p.removed_at is None and p.pk in duties,
            capabilities=capabilities_of_roles(roles.get(p.pk, [])),
        )
        for p in persons
    }


def _standing(
    person: Person, school_unit: SchoolUnit, known: StaffStanding | None
) -> StaffStanding:
    return known or staff_standings(school_unit, [person])[person.pk]


def _not_transferred_refusal(person: Person, standing: StaffStanding) -> str | None:
    """Staff serve a unit only while the organiser's transfer lists them as staff there."""
    if standing.transferred:
        return None
    return _("%(name)s was not transferred by the organiser to this school unit.") % {
        "name": person.full_name
    }


def proctor_refusal(
    person: Person, school_unit: SchoolUnit, standing: StaffStanding | None = None
) -> str | None:
    """Why `person` cannot proctor at `school_unit`, or None if they can. `standing` from
    `staff_standings` saves the queries when many are checked at once."""
    standing = _standing(person, school_unit, standing)
    if refusal := _not_transferred_refusal(person, standing):
        return refusal
    if Capability.PROCTOR not in standing.capabilities:
        return _("%(name)s does not hold the proctor role at this school unit.") % {
            "name": person.full_name
        }
    return None


def result_enterer_refusal(
    person: Person, school_unit: SchoolUnit, standing: StaffStanding | None = None
) -> str | None:
    """Why `person` cannot enter the results of an off-platform subtest at the unit, or None."""
    standing = _standing(person, school_unit, standing)
    if refusal := _not_transferred_refusal(person, standing):
        return refusal
    if not standing.capabilities & {Capability.ASSESS, Capability.PREPARE_GRADING}:
        return _("%(name)s may not enter results at this school unit.") % {"name": person.full_name}
    return None


def _is_head_teacher(person: Person | None, school_unit: SchoolUnit) -> bool:
    return (
        person is not None
        and RoleAssignment.objects.filter(
            person=person, school_unit=school_unit, role=Role.HEAD_TEACHER
        ).exists()
    )


# --- rooms --------------------------------------------------------------------------------------


@transaction.atomic
def room_create(*, actor, school_unit: SchoolUnit, name: str) -> Room:
    """A named room of the unit. Invariant: names are unique per unit."""
    _require(actor, school_unit, Capability.ADMINISTER_TESTS)
    name = (name or "").strip()
    if not name:
        raise ExamRefused(_("The room needs a name."))
    if Room.objects.filter(school_unit=school_unit, name__iexact=name).exists():
        raise ExamRefused(_("There is already a room called %(name)s.") % {"name": name})
    room = Room.objects.create(school_unit=school_unit, name=name)
    audit_record(
        actor=actor,
        action=AuditAction.ROOM_CREATE,
        target=room,
        after={"name": name},
        scope=school_unit,
    )
    return room


@transaction.atomic
def room_delete(*, actor, room: Room) -> None:
    """Remove a room that no sitting uses."""
    _require(actor, room.school_unit, Capability.ADMINISTER_TESTS)
    if room.sittings.exists():
        raise ExamRefused(_("The room is used by a sitting."))
    audit_record(
        actor=actor,
        action=AuditAction.ROOM_DELETE,
        target=room,
        before={"name": room.name},
        scope=room.school_unit,
    )
    room.delete()


# --- registration and automatic assignment -------------------------------------------------------


@transaction.atomic
def registration_create(
    *, actor, school_unit: SchoolUnit, test: TestDefinition, today: datetime.date | None = None
) -> Registration:
    """Register the unit for a voluntary test (påmelding).

    Invariant: only inside the test's registration window; from then on the test is mandatory for
    every student of its grade at the unit, so they are assigned at once.
    """
    _require(actor, school_unit, Capability.ADMINISTER_TESTS)
    _check_published(test)
    _check_programme(test, school_unit)
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


def _tests_binding(school_unit: SchoolUnit, today: datetime.date) -> list[TestDefinition]:
    country_programmes = [
        p for p, c in PROGRAMME_COUNTRY.items() if c == school_unit.organiser.country
    ]
    registered = Registration.objects.filter(school_unit=school_unit).values("test_id")
    tests = (
        TestDefinition.objects.filter(
            status=DefinitionStatus.PUBLISHED,
            programme__in=country_programmes,
            window_end__gte=today,
        )
        .filter(Q(mandatory=True) | Q(id__in=registered))
        .prefetch_related("subtests")
        .order_by("code", "-version")
    )
    # Publishing a correction retires the version before it; should two versions of one code
    # still be published, students are assigned only the newest.
    newest: dict[str, TestDefinition] = {}
    for test in tests:
        newest.setdefault(test.code, test)
    return list(newest.values())


def _current_enrolment(person_id: int, unit_id: int, today: datetime.date) -> bool:
    return (
        Enrolment.objects.filter(person_id=person_id, school_unit_id=unit_id)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .exists()
    )


def _move_refusal(assignment: Assignment, today: datetime.date, started: set[int]) -> str | None:
    """Why an assignment at another unit cannot follow the student here, or None if it can.

    `started` holds the students who started the assignment's subtest (see `_started_ids`).
    """
    if assignment.person_id in started:
        return _("Has already started this subtest at another school unit.")
    if _current_enrolment(assignment.person_id, assignment.school_unit_id, today):
        return _("Assigned at another school unit where the student is still enrolled.")
    return None


def _assignment_move(*, actor, assignment: Assignment, to_unit: SchoolUnit, source: str) -> None:
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
    change = {
        "before": {"school_unit": str(old_unit.public_id)},
        "after": {
            "school_unit": str(to_unit.public_id),
            "subtest": str(assignment.subtest.public_id),
            "person": str(person.public_id),
            "source": source,
        },
    }
    for scope in (old_unit, to_unit):
        audit_record(
            actor=actor,
            action=AuditAction.ASSIGNMENT_MOVE,
            target=assignment,
            scope=scope,
            **change,
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
        for test in _tests_binding(unit, day):
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
                if _assignment_window_refusal(subtest, day):
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
                started = _started_ids(subtest=subtest) if movers else set()
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
                missing -= _exempt_ids(subtest) | _sat_earlier_version_ids(subtest)
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


def _carry_over_registrations(*, actor, old: TestDefinition, new: TestDefinition) -> None:
    """A school registered for the old version is registered for the new one."""
    registered = set(Registration.objects.filter(test=new).values_list("school_unit_id", flat=True))
    for registration in Registration.objects.filter(test=old).select_related("school_unit"):
        unit = registration.school_unit
        if unit.pk in registered:
            continue
        registration.test = new
        registration.save(update_fields=["test", "modified"])
        audit_record(
            actor=actor,
            action=AuditAction.REGISTRATION_NEW_VERSION,
            target=registration,
            before={"test": old},
            after={"test": new, "version": new.version},
            scope=unit,
        )


def _carry_over(row, *, copy: bool, test: TestDefinition, subtest: Subtest | None):
    """Point a decision at the new version: moved, or copied when the old one must stay."""
    if copy:
        row.pk = row.id = None
        row._state.adding = True
        row.public_id = type(row)._meta.get_field("public_id").get_default()
        if isinstance(row, Adjustment):
            row.locked_at = None
    row.test = test
    row.subtest = subtest
    row.save()
    return row


def _carry_over_decisions(
    *,
    actor,
    old: TestDefinition,
    new: TestDefinition,
    new_by_code: dict[str, Subtest],
    kept: set[int],
) -> None:
    """Exemptions and adjustments decided for the old version hold for the new one too.

    They move; they are copied instead when the student keeps a subtest of the old version
    (`kept`), or for a locked adjustment, so what the student sat keeps its decisions.
    """
    for model, action in ((Exemption, "exemption"), (Adjustment, "adjustment")):
        # A decision is unique per (person, test, subtest): this set stands in for a lookup per row.
        decided = set(model.objects.filter(test=new).values_list("person_id", "subtest_id"))
        for row in model.objects.filter(test=old).select_related("subtest", "school_unit"):
            subtest = new_by_code.get(row.subtest.code) if row.subtest_id else None
            if row.subtest_id and subtest is None:
                continue
            key = (row.person_id, subtest.pk if subtest else None)
            if key in decided:
                continue
            source = str(row.public_id)
            locked = getattr(row, "locked_at", None) is not None
            copy = row.person_id in kept or locked
            row = _carry_over(row, copy=copy, test=new, subtest=subtest)
            decided.add(key)
            audit_record(
                actor=actor,
                action=f"{action}.new_version",
                target=row,
                after={"from": source, "test": new, "copied": copy},
                scope=row.school_unit,
            )


@transaction.atomic
def assignments_follow_new_version(
    *, actor, old: TestDefinition, new: TestDefinition
) -> BulkSummary:
    """Move schools' preparations from a superseded version to the one that replaces it.

    Invariant: a student who has not started a subtest of the old version holds the new
    version's subtest with the same code instead (and a sitting nobody has started moves with
    its students); a student who has started, or did it on paper, keeps the old version, and so
    does a student whose subtest has no counterpart in the new version. Registrations,
    exemptions and adjustments carry over (copied, not moved, for a student who keeps part of
    the old version). Every move and every assignment kept is audited.
    """
    new_by_code = {s.code: s for s in new.subtests.all()}
    summary = BulkSummary()
    _carry_over_registrations(actor=actor, old=old, new=new)
    for subtest in old.subtests.all():
        target = new_by_code.get(subtest.code)
        started = _started_ids(subtest=subtest)
        placed_in: dict[int, set[int]] = {}
        for sitting_id, person_id in SittingStudent.objects.filter(
            sitting__subtest=subtest, sitting__status=SittingStatus.SCHEDULED
        ).values_list("sitting_id", "person_id"):
            placed_in.setdefault(sitting_id, set()).add(person_id)
        kept_sittings: set[int] = set()
        for sitting in Sitting.objects.filter(
            subtest=subtest, status=SittingStatus.SCHEDULED
        ).select_related("school_unit"):
            placed = placed_in.get(sitting.pk, set())
            if target is None or placed & started:
                kept_sittings |= placed
                continue
            sitting.subtest = target
            sitting.save(update_fields=["subtest", "modified"])
            audit_record(
                actor=actor,
                action=AuditAction.SITTING_NEW_VERSION,
                target=sitting,
                before={"subtest": subtest},
                after={"subtest": target, "version": new.version},
                scope=sitting.school_unit,
            )
        assignments = Assignment.objects.filter(subtest=subtest).select_related(
            "person", "school_unit"
        )
        # Students who already hold the new subtest (one assignment per subtest and student).
        on_target = (
            set(Assignment.objects.filter(subtest=target).values_list("person_id", flat=True))
            if target is not None
            else set()
        )
        for assignment in assignments:
            person = assignment.person
            if person.pk in started:
                reason = _("Has already started this subtest; keeps version %(version)d.")
            elif target is None:
                reason = _("The new version has no subtest %(code)s; keeps version %(version)d.")
            elif person.pk in kept_sittings:
                reason = _("Placed in a sitting that has begun; keeps version %(version)d.")
            else:
                reason = None
            if reason:
                reason = reason % {"version": old.version, "code": subtest.code}
                summary.refused.append(_person_entry(person, reason=reason))
                audit_record(
                    actor=actor,
                    action=AuditAction.ASSIGNMENT_KEPT_ON_OLD_VERSION,
                    target=assignment,
                    after={"subtest": subtest, "person": person},
                    reason=reason,
                    scope=assignment.school_unit,
                )
                continue
            if person.pk in on_target:
                before = {"subtest": str(subtest.public_id), "person": str(person.public_id)}
                audit_record(
                    actor=actor,
                    action=AuditAction.ASSIGNMENT_REMOVE,
                    target=assignment,
                    before=before,
                    reason="new version",
                    scope=assignment.school_unit,
                )
                assignment.delete()
                continue
            assignment.subtest = target
            assignment.save(update_fields=["subtest", "modified"])
            on_target.add(person.pk)
            audit_record(
                actor=actor,
                action=AuditAction.ASSIGNMENT_NEW_VERSION,
                target=assignment,
                before={"subtest": subtest},
                after={
                    "subtest": target,
                    "person": person,
                    "version": new.version,
                },
                scope=assignment.school_unit,
            )
            summary.changed.append(_person_entry(person, action="moved"))
    kept = set(Assignment.objects.filter(subtest__test=old).values_list("person_id", flat=True))
    _carry_over_decisions(actor=actor, old=old, new=new, new_by_code=new_by_code, kept=kept)
    return summary


def on_transfer_applied(organiser, run) -> None:
    """schools.hooks callback: students transferred later get their mandatory tests at once."""
    assignments_sync_mandatory(organiser=organiser)


# --- assignment ---------------------------------------------------------------------------------


@transaction.atomic
def assignments_create(
    *,
    actor,
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
    _require(actor, school_unit, Capability.ADMINISTER_TESTS)
    _check_published(subtest.test)
    _check_programme(subtest.test, school_unit)
    persons = list(persons)
    summary = BulkSummary()
    today = today or unit_today(school_unit)
    window_refusal = _assignment_window_refusal(subtest, today)
    if window_refusal:
        summary.refused = [_person_entry(p, reason=window_refusal) for p in persons]
        return summary
    enrolled = enrolled_ids(school_unit, today=today)
    exempt = _exempt_ids(subtest)
    started = _started_ids(subtest=subtest)
    sat_earlier = _sat_earlier_version_ids(subtest)
    have = {
        a.person_id: a
        for a in Assignment.objects.filter(subtest=subtest, person__in=persons).select_related(
            "person", "subtest"
        )
    }
    automatic = 0
    for person in persons:
        elsewhere = have.get(person.pk)
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
                summary.changed.append(_person_entry(person, action="moved"))
                continue
        else:
            reason = None
        if reason:
            summary.refused.append(_person_entry(person, reason=reason))
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
        summary.changed.append(_person_entry(person, action="assigned"))
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


def binding_test_ids(*, school_unit: SchoolUnit, today: datetime.date | None = None) -> set[int]:
    """Tests the unit's students are assigned automatically (mandatory, or registered)."""
    day = today or unit_today(school_unit)
    return {test.pk for test in _tests_binding(school_unit, day)}


def assignments_create_for_group(
    *, actor, school_unit: SchoolUnit, subtest: Subtest, group, today=None
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
    *, actor, school_unit: SchoolUnit, subtest: Subtest, today=None
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
def assignment_remove(*, actor, assignment: Assignment, reason: str) -> None:
    """Correct a wrong assignment (also on the day): the student leaves the subtest's sittings.

    Invariant: never once the student has started the subtest (or did it on paper): what they
    did stays assigned, so it is scored and counted.
    """
    school_unit = assignment.school_unit
    _require(actor, school_unit, Capability.ADMINISTER_TESTS)
    if not (reason or "").strip():
        raise ExamRefused(_("Give a reason for the correction."))
    if _has_started(assignment.person, subtests=[assignment.subtest]):
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
    *, actor, assignment: Assignment, subtest: Subtest, reason: str, today=None
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


# --- sittings -----------------------------------------------------------------------------------


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


def _place_students(*, actor, sitting: Sitting, persons: Iterable[Person]) -> BulkSummary:
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
    exempt = _exempt_ids(subtest)
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
            summary.refused.append(_person_entry(person, reason=reason))
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
        summary.changed.append(_person_entry(person, action="placed"))
    return summary


def _add_proctor(*, actor, sitting: Sitting, person: Person, is_backup: bool) -> None:
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
    actor,
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
    _require(actor, school_unit, Capability.ADMINISTER_TESTS)
    _same_unit(room, school_unit)
    _check_published(subtest.test)
    _check_programme(subtest.test, school_unit)
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
def sitting_add_students(*, actor, sitting: Sitting, persons: Iterable[Person]) -> BulkSummary:
    """Place assigned students in the sitting (and so in its room)."""
    _require(actor, sitting.school_unit, Capability.ADMINISTER_TESTS)
    _check_editable(sitting)
    return _place_students(actor=actor, sitting=sitting, persons=persons)


@transaction.atomic
def sitting_remove_student(*, actor, sitting: Sitting, person: Person, reason: str = "") -> None:
    _require(actor, sitting.school_unit, Capability.ADMINISTER_TESTS)
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
    *, actor, sitting: Sitting, person: Person, is_backup: bool = False
) -> None:
    """Only a transferred person holding the proctor role at the unit may proctor."""
    _require(actor, sitting.school_unit, Capability.ADMINISTER_TESTS)
    _check_editable(sitting)
    _add_proctor(actor=actor, sitting=sitting, person=person, is_backup=is_backup)


@transaction.atomic
def sitting_set_result_enterer(*, actor, sitting: Sitting, person: Person | None) -> Sitting:
    """Name who enters the results of an off-platform subtest's sitting (None to clear).

    Invariant: only for a subtest done outside the platform, and only a person the organiser
    transferred to the unit who may assess or prepare grading there.
    """
    _require(actor, sitting.school_unit, Capability.ADMINISTER_TESTS)
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
def sitting_remove_proctor(*, actor, sitting: Sitting, person: Person) -> None:
    """Invariant: a scheduled sitting keeps at least one (non-backup) proctor."""
    _require(actor, sitting.school_unit, Capability.ADMINISTER_TESTS)
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
    actor,
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
    _require(actor, school_unit, Capability.ADMINISTER_TESTS)
    _check_editable(sitting)
    if not (reason or "").strip():
        raise ExamRefused(_("Give a reason for postponing."))
    room = room or sitting.room
    _same_unit(room, school_unit)
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
    started = _started_ids(subtest=sitting.subtest)
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
    *, actor, school_unit: SchoolUnit, subtest: Subtest, person: Person, note: str = ""
) -> PaperReplacement:
    """Record that a student did the subtest on paper; grading enters the result later.

    Invariant: nobody sits a subtest twice, so never for a student who started it on the platform.
    """
    _require(actor, school_unit, Capability.ADMINISTER_TESTS)
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


# --- adjustments --------------------------------------------------------------------------------


def _adjustment_refusal(
    subtests: list[Subtest], *, extended: bool, tools: list[str], other_kinds: list[str]
) -> str | None:
    for subtest in subtests:
        permitted = set(subtest.permitted_adjustments or [])
        if extended and AdjustmentKind.EXTENDED_TIME not in permitted:
            return _("%(subtest)s does not permit extended time.") % {"subtest": subtest.title}
        if tools and AdjustmentKind.TOOLS not in permitted:
            return _("%(subtest)s does not permit extra tools.") % {"subtest": subtest.title}
        for tool in tools:
            if tool not in (subtest.permitted_tools or []):
                return _("%(subtest)s does not permit the tool %(tool)s.") % {
                    "subtest": subtest.title,
                    "tool": Tool(tool).label,
                }
        for kind in other_kinds:
            if kind not in permitted:
                return _("%(subtest)s does not permit the adjustment %(kind)s.") % {
                    "subtest": subtest.title,
                    "kind": AdjustmentKind(kind).label,
                }
    return None


def _adjustment_snapshot(adjustment: Adjustment) -> dict:
    return {
        "subtest": str(adjustment.subtest.public_id) if adjustment.subtest_id else None,
        "extended_minutes": adjustment.extended_minutes,
        "extended_percent": adjustment.extended_percent,
        "tools": adjustment.tools,
        "other_kinds": adjustment.other_kinds,
        "decided_by": str(adjustment.decided_by.public_id) if adjustment.decided_by_id else None,
    }


@transaction.atomic
def adjustment_set(
    *,
    actor,
    school_unit: SchoolUnit,
    person: Person,
    test: TestDefinition,
    subtest: Subtest | None = None,
    extended_minutes: int | None = None,
    extended_percent: int | None = None,
    tools: Iterable[str] = (),
    other_kinds: Iterable[str] = (),
    decided_by: Person,
    decided_on: datetime.date | None = None,
    note: str = "",
    reason: str = "",
) -> Adjustment:
    """Enter (or change) the adjustment the head teacher decided for a student.

    Invariant: decided by a head teacher of the unit; every part permitted by the subtest (for a
    whole test: by each of its on-platform subtests); once the student has started a subtest it
    covers (the row is locked, or a start is recorded before the row existed), only an
    administrator may change or add it, with a reason, audited as a change on the day.
    """
    _require(actor, school_unit, Capability.ENTER_ADJUSTMENTS)
    _check_published(test)
    _check_programme(test, school_unit)
    today = unit_today(school_unit)
    if person.pk not in enrolled_ids(school_unit, today=today):
        raise ExamRefused(_("Not enrolled at this school unit."))
    if subtest is not None and subtest.test_id != test.pk:
        raise ExamRefused(_("The subtest is not part of that test."))
    if not _is_head_teacher(decided_by, school_unit):
        raise ExamRefused(_("Adjustments are decided by the school unit's head teacher."))
    tools, other_kinds = sorted(set(tools)), sorted(set(other_kinds))
    for value in tools:
        if value not in Tool.values:
            raise ExamRefused(_("Unknown tool: %(tool)s.") % {"tool": value})
    for value in other_kinds:
        if value not in AdjustmentKind.values or value in (
            AdjustmentKind.EXTENDED_TIME,
            AdjustmentKind.TOOLS,
        ):
            raise ExamRefused(_("Unknown adjustment: %(kind)s.") % {"kind": value})
    if extended_minutes is not None and extended_percent is not None:
        raise ExamRefused(_("Give extended time in minutes or in percent, not both."))
    extended = bool(extended_minutes or extended_percent)
    if not (extended or tools or other_kinds):
        raise ExamRefused(_("The adjustment is empty."))
    subtests = [subtest] if subtest is not None else list(test.subtests.filter(on_platform=True))
    refusal = _adjustment_refusal(subtests, extended=extended, tools=tools, other_kinds=other_kinds)
    if refusal:
        raise ExamRefused(refusal)
    adjustment = (
        Adjustment.objects.select_for_update()
        .filter(person=person, test=test, subtest=subtest)
        .first()
    )
    before = _adjustment_snapshot(adjustment) if adjustment else None
    action = AuditAction.ADJUSTMENT_CREATE if adjustment is None else AuditAction.ADJUSTMENT_CHANGE
    # Locked by the row itself, or because the student has already started one of the subtests
    # it covers: a new adjustment entered after the start is a change on the day as well.
    locked = (adjustment is not None and adjustment.locked_at is not None) or _has_started(
        person, subtests=[subtest] if subtest is not None else list(test.subtests.all())
    )
    if locked:
        if not _is_administrator(actor, school_unit):
            raise ExamRefused(_("The student has started; only an administrator may change this."))
        if not reason.strip():
            raise ExamRefused(_("The student has started: give a reason for the change."))
        action = AuditAction.ADJUSTMENT_CHANGE_ON_DAY
    if adjustment is None:
        adjustment = Adjustment(school_unit=school_unit, person=person, test=test, subtest=subtest)
    adjustment.extended_minutes = extended_minutes or None
    adjustment.extended_percent = extended_percent or None
    adjustment.tools = tools
    adjustment.other_kinds = other_kinds
    adjustment.decided_by = decided_by
    adjustment.decided_on = decided_on or today
    adjustment.entered_by = actor
    adjustment.note = note
    if locked and adjustment.locked_at is None:
        adjustment.locked_at = timezone.now()
    adjustment.save()
    audit_record(
        actor=actor,
        action=action,
        target=adjustment,
        before=before,
        after=_adjustment_snapshot(adjustment) | {"person": person},
        reason=reason,
        scope=school_unit,
    )
    if locked:
        # A student may be sitting the test right now: let delivery move the deadline.
        hooks.adjustment_changed_on_day_notify(
            actor=actor, school_unit=school_unit, person=person, subtests=subtests, reason=reason
        )
    return adjustment


@transaction.atomic
def adjustment_remove(*, actor, adjustment: Adjustment, reason: str = "") -> None:
    """Remove an adjustment; after the lock only an administrator, with a reason."""
    school_unit = adjustment.school_unit
    _require(actor, school_unit, Capability.ENTER_ADJUSTMENTS)
    if adjustment.locked_at is not None and not (
        _is_administrator(actor, school_unit) and reason.strip()
    ):
        raise ExamRefused(_("The student has started: an administrator must give a reason."))
    audit_record(
        actor=actor,
        action=AuditAction.ADJUSTMENT_REMOVE,
        target=adjustment,
        before=_adjustment_snapshot(adjustment),
        reason=reason,
        scope=school_unit,
    )
    subtests = (
        [adjustment.subtest]
        if adjustment.subtest_id is not None
        else list(adjustment.test.subtests.filter(on_platform=True))
    )
    locked = adjustment.locked_at is not None
    adjustment.delete()
    if locked:
        # Less extended time for a student who may be sitting the test right now.
        hooks.adjustment_changed_on_day_notify(
            actor=actor,
            school_unit=school_unit,
            person=adjustment.person,
            subtests=subtests,
            reason=reason,
        )


def _adjustments_for(*, person, subtest):
    return Adjustment.objects.filter(person=person, test_id=subtest.test_id).filter(
        Q(subtest=subtest) | Q(subtest__isnull=True)
    )


def extra_seconds_for(*, person, subtest) -> int:
    """Extended time for the student on this subtest; a subtest-specific adjustment wins over one
    for the whole test. Called by delivery to compute the deadline."""
    if AdjustmentKind.EXTENDED_TIME not in (subtest.permitted_adjustments or []):
        return 0
    rows = sorted(
        _adjustments_for(person=person, subtest=subtest), key=lambda a: a.subtest_id is None
    )
    for adjustment in rows:
        if adjustment.extended_minutes or adjustment.extended_percent:
            return adjustment.extra_minutes_for(subtest.duration_minutes) * 60
    return 0


def tools_for(*, person, subtest) -> list[str]:
    """Tools available to the student: the subtest's own plus those an adjustment adds (only
    when the subtest permits tools as an adjustment, and only tools it permits)."""
    tools = set(subtest.tools or [])
    if AdjustmentKind.TOOLS not in (subtest.permitted_adjustments or []):
        return sorted(tools)
    for adjustment in _adjustments_for(person=person, subtest=subtest):
        tools |= set(adjustment.tools or []) & set(subtest.permitted_tools or [])
    return sorted(tools)


def _has_started(person: Person, *, subtests: Iterable[Subtest]) -> bool:
    return SubtestStart.objects.filter(person=person, subtest__in=list(subtests)).exists()


@transaction.atomic
def adjustments_lock(*, person, subtest) -> int:
    """Lock the student's adjustments for this subtest when they start (called by delivery).

    Invariant: the start is recorded even when the student has no adjustment yet, so one entered
    afterwards is locked too (only an administrator's audited change on the day).
    """
    now = timezone.now()
    SubtestStart.objects.get_or_create(person=person, subtest=subtest, defaults={"started_at": now})
    rows = list(_adjustments_for(person=person, subtest=subtest).filter(locked_at__isnull=True))
    for adjustment in rows:
        adjustment.locked_at = now
        adjustment.save(update_fields=["locked_at", "modified"])
        audit_record(
            actor=None,
            action=AuditAction.ADJUSTMENT_LOCK,
            target=adjustment,
            after={"subtest": subtest},
            scope=adjustment.school_unit,
        )
    return len(rows)


# --- exemptions ---------------------------------------------------------------------------------


@transaction.atomic
def exemption_create(
    *,
    actor,
    school_unit: SchoolUnit,
    person: Person,
    test: TestDefinition,
    subtest: Subtest | None = None,
    ground: str,
    decision_reference: str,
    attested_no_significance: bool,
    decided_by: Person,
    decided_on: datetime.date | None = None,
) -> Exemption:
    """Exempt a student (Norwegian programme).

    Invariant: never automatic; only on the two grounds, with the decision's reference and the
    attestation that the result would not matter for the student's education; decided by the head
    teacher, on a date no later than today (today when not given). The student's assignments (and
    placements) for the exempted subtests are withdrawn.
    """
    _require(actor, school_unit, Capability.DECIDE_EXEMPTIONS)
    if test.programme != Programme.NO_MAPPING:
        raise ExamRefused(_("Exemptions exist only for Norwegian mapping tests."))
    if ground not in ExemptionGround.values:
        raise ExamRefused(
            _(
                "An exemption needs an individual decision on special education or on special "
                "language training for linguistic minorities."
            )
        )
    if not (decision_reference or "").strip():
        raise ExamRefused(_("Give the reference of the individual decision."))
    if not attested_no_significance:
        raise ExamRefused(
            _("Confirm that the result would not matter for the student's education.")
        )
    if not _is_head_teacher(decided_by, school_unit):
        raise ExamRefused(_("Exemptions are decided by the school unit's head teacher."))
    today = unit_today(school_unit)
    if decided_on is not None and decided_on > today:
        raise ExamRefused(_("The decision date cannot be in the future."))
    if person.pk not in enrolled_ids(school_unit, today=today):
        raise ExamRefused(_("Not enrolled at this school unit."))
    if subtest is not None and subtest.test_id != test.pk:
        raise ExamRefused(_("The subtest is not part of that test."))
    _check_programme(test, school_unit)
    subtests = [subtest] if subtest else list(test.subtests.all())
    if _has_started(person, subtests=subtests):
        # Exempting afterwards would take a result that exists out of the statistics.
        raise ExamRefused(_("The student has already started this test and cannot be exempted."))
    if (
        Exemption.objects.filter(person=person, test=test)
        .filter(Q(subtest__isnull=True) | Q(subtest=subtest))
        .exists()
    ):
        raise ExamRefused(_("The student is already exempt."))
    exemption = Exemption.objects.create(
        school_unit=school_unit,
        person=person,
        test=test,
        subtest=subtest,
        ground=ground,
        decision_reference=decision_reference.strip(),
        attested_no_significance=True,
        decided_by=decided_by,
        decided_on=decided_on or today,
        entered_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.EXEMPTION_CREATE,
        target=exemption,
        after={
            "person": person,
            "test": test,
            "subtest": subtest,
            "ground": ground,
            "decision_reference": exemption.decision_reference,
            "decided_by": decided_by,
            "decided_on": exemption.decided_on.isoformat(),
        },
        scope=school_unit,
    )
    withdrawn = Assignment.objects.filter(person=person, subtest__in=subtests)
    for assignment in withdrawn:
        SittingStudent.objects.filter(sitting__subtest=assignment.subtest, person=person).delete()
        audit_record(
            actor=actor,
            action=AuditAction.ASSIGNMENT_REMOVE,
            target=assignment,
            before={"subtest": assignment.subtest, "person": person},
            reason="exemption",
            scope=school_unit,
        )
        assignment.delete()
    return exemption


@transaction.atomic
def exemption_remove(*, actor, exemption: Exemption, reason: str) -> None:
    """Withdraw an exemption; the next automatic run assigns mandatory tests again."""
    _require(actor, exemption.school_unit, Capability.DECIDE_EXEMPTIONS)
    if not (reason or "").strip():
        raise ExamRefused(_("Give a reason."))
    audit_record(
        actor=actor,
        action=AuditAction.EXEMPTION_REMOVE,
        target=exemption,
        before={"ground": exemption.ground},
        reason=reason,
        scope=exemption.school_unit,
    )
    exemption.delete()


# --- readiness ----------------------------------------------------------------------------------


@transaction.atomic
def checklist_acknowledge(
    *, actor, school_unit: SchoolUnit, key: str, sitting: Sitting | None = None
) -> ChecklistAcknowledgement:
    """Confirm a readiness item by hand (an item of the technical checklist, adjustments
    reviewed), recorded with the person who ticked it.

    Invariant: a confirmation is for one sitting; it says nothing about any other sitting.
    """
    _require(actor, school_unit, Capability.ADMINISTER_TESTS)
    if key not in CHECKLIST_KEYS:
        raise ExamRefused(_("Unknown checklist item."))
    if actor is None and key in TECHNICAL_KEYS:
        raise ExamRefused(_("Each item of the technical checklist is ticked by a named person."))
    if sitting is None:
        raise ExamRefused(_("Choose the sitting this confirms."))
    _same_unit(sitting, school_unit)
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
