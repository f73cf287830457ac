"""Follow-up measures (tiltak) and the organiser's follow-up requests.

Measures are recorded by those who see the student's results (the whole unit, or a teacher for
their own groups). The organiser administrator asks its schools which measures they started and
sees, per school, only counts and whether the school answered — never scores, names or a ranking.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from exams.models import Subtest, TestDefinition
from provplattform.audit import AuditAction, audit_record
from provplattform.errors import NotFound, Refused
from provplattform.lookup import get_by_public_id
from results.models import FollowUpAnswer, FollowUpRequest, Measure, MeasureKind, MeasureStatus
from results.selectors import follow_up_counts
from results.visibility import ResultScope, access_student
from schools.models import Organiser, OrganiserAdministrator, SchoolUnit, User
from schools.selectors import persons_of_unit

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def measure_kinds_for(organiser: Organiser) -> QuerySet:
    """The platform's kinds plus the organiser's own."""
    return MeasureKind.objects.filter(Q(organiser__isnull=True) | Q(organiser=organiser))


def _one(qs, public_id, what: StrOrPromise):
    return get_by_public_id(qs, public_id, str(_("No such %(what)s.") % {"what": what}))


def measure_record(
    *,
    actor: User,
    scope: ResultScope,
    person_public_id,
    subtest_public_id,
    kind_public_id,
    starts_on: datetime.date,
    responsible_public_id=None,
    note: str = "",
    status: str = MeasureStatus.PLANNED,
) -> Measure:
    """Record a measure for a student the actor sees results of; audited."""
    person = access_student(scope=scope, person_public_id=person_public_id)
    unit = scope.school_unit
    subtest = _one(
        Subtest.objects.filter(test__result_sets__school_unit=unit).distinct(),
        subtest_public_id,
        _("subtest"),
    )
    kind = _one(measure_kinds_for(unit.organiser), kind_public_id, _("kind of measure"))
    if status not in MeasureStatus.values:
        raise Refused(_("Use one of: planned, started, ended, evaluated."))
    responsible = None
    if responsible_public_id:
        responsible = _one(persons_of_unit(school_unit=unit), responsible_public_id, _("person"))
    with transaction.atomic():
        measure = Measure.objects.create(
            school_unit=unit,
            person=person,
            subtest=subtest,
            kind=kind,
            starts_on=starts_on,
            responsible=responsible,
            note=note,
            status=status,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.MEASURE_RECORDED,
            target=measure,
            scope=unit,
            after={"person": str(person.public_id), "kind": kind.name, "status": status},
        )
    return measure


def access_measure(*, scope: ResultScope, public_id) -> Measure:
    return _one(
        Measure.objects.filter(school_unit=scope.school_unit, person__in=scope.students()),
        public_id,
        _("measure"),
    )


def measure_set_status(
    *, actor: User, scope: ResultScope, measure: Measure, status: str
) -> Measure:
    if status not in MeasureStatus.values:
        raise Refused(_("Use one of: planned, started, ended, evaluated."))
    with transaction.atomic():
        before = measure.status
        measure.status = status
        measure.save(update_fields=["status", "modified"])
        audit_record(
            actor=actor,
            action=AuditAction.MEASURE_STATUS_CHANGED,
            target=measure,
            scope=scope.school_unit,
            before={"status": before},
            after={"status": status},
        )
    return measure


def measures_of(*, scope: ResultScope) -> QuerySet:
    return (
        Measure.objects.filter(school_unit=scope.school_unit, person__in=scope.students())
        .select_related("person", "subtest", "kind", "responsible")
        .order_by("person__family_name", "starts_on")
    )


# --- the organiser's follow-up requests ---------------------------------------------------------


def administered_organiser(*, user: User, public_id) -> Organiser:
    return _one(
        Organiser.objects.filter(
            id__in=OrganiserAdministrator.objects.filter(user_id=user.pk).values("organiser_id")
        ),
        public_id,
        _("organiser"),
    )


def measure_kind_add(*, actor: User, organiser: Organiser, name: str) -> MeasureKind:
    name = name.strip()
    if not name:
        raise Refused(_("Give the kind a name."))
    if len(name) > (MeasureKind._meta.get_field("name").max_length or 0):
        raise Refused(_("Keep the name to 120 characters."))
    if measure_kinds_for(organiser).filter(name__iexact=name).exists():
        raise Refused(_("That kind of measure is already on the list."))
    kind = MeasureKind.objects.create(organiser=organiser, name=name)
    audit_record(
        actor=actor, action=AuditAction.MEASURE_KIND_ADDED, target=kind, after={"name": name}
    )
    return kind


def follow_up_request_send(
    *,
    actor: User,
    organiser: Organiser,
    test: TestDefinition,
    subtest: Subtest | None,
    question: str,
    due_on: datetime.date,
) -> FollowUpRequest:
    if not question.strip():
        raise Refused(_("Write the question to the schools."))
    if subtest is not None and subtest.test_id != test.id:
        raise Refused(_("The subtest is not part of the test."))
    with transaction.atomic():
        request = FollowUpRequest.objects.create(
            organiser=organiser,
            test=test,
            subtest=subtest,
            question=question.strip(),
            due_on=due_on,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.FOLLOW_UP_REQUESTED,
            target=request,
            after={"due_on": str(due_on)},
        )
    return request


def follow_up_answer(
    *, actor: User, scope: ResultScope, request_public_id, note: str = ""
) -> FollowUpAnswer:
    """A school answers from the measures it recorded: the counts are taken now, not typed in."""
    if not scope.whole_unit:
        raise NotFound(_("No such follow-up request."))
    unit = scope.school_unit
    request = _one(
        FollowUpRequest.objects.filter(organiser_id=unit.organiser_id),
        request_public_id,
        _("follow-up request"),
    )
    counts = follow_up_counts(school_unit=unit, test=request.test, subtest=request.subtest)
    with transaction.atomic():
        answer, _created = FollowUpAnswer.objects.update_or_create(
            request=request,
            school_unit=unit,
            defaults={"counts": counts, "note": note, "answered_by": actor},
        )
        audit_record(
            actor=actor,
            action=AuditAction.FOLLOW_UP_ANSWERED,
            target=answer,
            scope=unit,
            after=counts,
        )
    return answer


def follow_up_overview(*, request: FollowUpRequest) -> list[dict]:
    """Per school of the organiser, in name order (never ordered by a figure): the counts and
    whether it answered."""
    answers = {a.school_unit_id: a for a in request.answers.all()}
    rows = []
    for unit in SchoolUnit.objects.filter(
        organiser_id=request.organiser_id, removed_at__isnull=True
    ).order_by("name"):
        answer = answers.get(unit.id)
        rows.append(
            {
                "school_unit": unit,
                "answered": answer is not None,
                "answered_at": answer.modified if answer else None,
                "counts": answer.counts
                if answer
                else follow_up_counts(school_unit=unit, test=request.test, subtest=request.subtest),
                "note": answer.note if answer else "",
            }
        )
    return rows


def follow_up_requests_for_unit(*, unit: SchoolUnit) -> QuerySet:
    return FollowUpRequest.objects.filter(organiser_id=unit.organiser_id).select_related(
        "test", "subtest"
    )
