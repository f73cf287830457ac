"""Writes on the head teacher's decisions about a student: adjustments (extended time, tools and
the rest), their lock once the student starts, and exemptions.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from exams import hooks
from exams.day_passwords import unit_today
from exams.models import (
    Adjustment,
    AdjustmentKind,
    Assignment,
    Exemption,
    ExemptionGround,
    Programme,
    SittingStudent,
    Subtest,
    SubtestStart,
    TestDefinition,
    Tool,
)
from exams.preparation.common import (
    ExamRefused,
    check_programme,
    check_published,
    is_administrator,
    require_capability,
)
from exams.preparation.rules import adjustments_for, enrolled_ids, has_started, is_head_teacher
from provplattform.audit import AuditAction, audit_record
from schools.models import Person, SchoolUnit, User
from schools.roles import Capability

# --- adjustments ----------------------------------------------------------------------------------


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
        "subtest": str(adjustment.subtest.public_id) if adjustment.subtest is not None else None,
        "extended_minutes": adjustment.extended_minutes,
        "extended_percent": adjustment.extended_percent,
        "tools": adjustment.tools,
        "other_kinds": adjustment.other_kinds,
        "decided_by": (
            str(adjustment.decided_by.public_id) if adjustment.decided_by is not None else None
        ),
    }


@transaction.atomic
def adjustment_set(
    *,
    actor: User | None,
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
    require_capability(actor, school_unit, Capability.ENTER_ADJUSTMENTS)
    check_published(test)
    check_programme(test, school_unit)
    today = unit_today(school_unit)
    if person.pk not in enrolled_ids(school_unit, today=today):
        raise ExamRefused(_("Not enrolled at this school unit."))
    if subtest is not None and subtest.test_id != test.pk:
        raise ExamRefused(_("The subtest is not part of that test."))
    if not is_head_teacher(decided_by, school_unit):
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
    locked = (adjustment is not None and adjustment.locked_at is not None) or has_started(
        person, subtests=[subtest] if subtest is not None else list(test.subtests.all())
    )
    if locked:
        if not is_administrator(actor, school_unit):
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
def adjustment_remove(*, actor: User | None, adjustment: Adjustment, reason: str = "") -> None:
    """Remove an adjustment; after the lock only an administrator, with a reason."""
    school_unit = adjustment.school_unit
    require_capability(actor, school_unit, Capability.ENTER_ADJUSTMENTS)
    if adjustment.locked_at is not None and not (
        is_administrator(actor, school_unit) and reason.strip()
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


@transaction.atomic
def adjustments_lock(*, person: Person, subtest: Subtest) -> int:
    """Lock the student's adjustments for this subtest when they start (called by delivery).

    Invariant: the start is recorded even when the student has no adjustment yet, so one entered
    afterwards is locked too (only an administrator's audited change on the day).
    """
    now = timezone.now()
    SubtestStart.objects.get_or_create(person=person, subtest=subtest, defaults={"started_at": now})
    rows = list(adjustments_for(person=person, subtest=subtest).filter(locked_at__isnull=True))
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


# --- exemptions -----------------------------------------------------------------------------------


@transaction.atomic
def exemption_create(
    *,
    actor: User | None,
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
    require_capability(actor, school_unit, Capability.DECIDE_EXEMPTIONS)
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
    if not is_head_teacher(decided_by, school_unit):
        raise ExamRefused(_("Exemptions are decided by the school unit's head teacher."))
    today = unit_today(school_unit)
    if decided_on is not None and decided_on > today:
        raise ExamRefused(_("The decision date cannot be in the future."))
    if person.pk not in enrolled_ids(school_unit, today=today):
        raise ExamRefused(_("Not enrolled at this school unit."))
    if subtest is not None and subtest.test_id != test.pk:
        raise ExamRefused(_("The subtest is not part of that test."))
    check_programme(test, school_unit)
    subtests = [subtest] if subtest else list(test.subtests.all())
    if has_started(person, subtests=subtests):
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
            "decided_on": (decided_on or today).isoformat(),
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
def exemption_remove(*, actor: User | None, exemption: Exemption, reason: str) -> None:
    """Withdraw an exemption; the next automatic run assigns mandatory tests again."""
    require_capability(actor, exemption.school_unit, Capability.DECIDE_EXEMPTIONS)
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
