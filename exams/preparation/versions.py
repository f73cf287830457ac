"""A new version of a test replaces the one before it: the schools' preparations follow it, and
what a student already sat stays where it was.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from exams.models import (
    Adjustment,
    Assignment,
    Exemption,
    Registration,
    Sitting,
    SittingStatus,
    SittingStudent,
    Subtest,
    TestDefinition,
)
from exams.preparation.common import BulkSummary, person_entry
from exams.preparation.rules import started_ids
from provplattform.audit import AuditAction, audit_record
from schools.models import User


def _carry_over_registrations(*, actor: User, old: TestDefinition, new: TestDefinition) -> None:
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
    actor: User,
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
        decided: set[tuple[int, int | None]] = set(
            model.objects.filter(test=new).values_list("person_id", "subtest_id")
        )
        for row in model.objects.filter(test=old).select_related("subtest", "school_unit"):
            subtest = new_by_code.get(row.subtest.code) if row.subtest is not None else None
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
    *, actor: User, old: TestDefinition, new: TestDefinition
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
        started = started_ids(subtest=subtest)
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
                summary.refused.append(person_entry(person, reason=reason))
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
            summary.changed.append(person_entry(person, action="moved"))
    kept = set(Assignment.objects.filter(subtest__test=old).values_list("person_id", flat=True))
    _carry_over_decisions(actor=actor, old=old, new=new, new_by_code=new_by_code, kept=kept)
    return summary
