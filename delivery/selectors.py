"""Reads for the live sitting, scoped to the acting user's school units."""

from __future__ import annotations

import datetime

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from delivery.models import Attempt, AttemptStatus, Response, StudentCredential
from exams.day_passwords import unit_zone
from exams.models import (
    Item,
    Sitting,
    SittingProctor,
    SittingStatus,
    SittingStudent,
    Tool,
)
from exams.preparation.rules import tools_for
from exams.selectors import adjustments_by_person, exemptions_covering
from provplattform.errors import get_or_not_found
from schools.models import AnyUser, Person, SchoolUnit, TeachingGroup, User
from schools.roles import Capability
from schools.selectors import scope_to_school_units


def sittings_for(*, user: AnyUser, capability: Capability | str = Capability.PROCTOR) -> QuerySet:
    return scope_to_school_units(
        Sitting.objects.select_related("school_unit", "subtest__test", "room"),
        user=user,
        capability=capability,
    )


def access_sitting(
    *, user: AnyUser, public_id, capability: Capability | str = Capability.PROCTOR
) -> Sitting:
    """The sitting, if the user holds `capability` at its school unit; otherwise 404."""
    return get_or_not_found(sittings_for(user=user, capability=capability), public_id=public_id)


def attempts_for_sitting(*, sitting: Sitting) -> QuerySet:
    """Every student's attempt in the sitting. A reader that must show students who have not
    started calls `delivery.attempts.attempts_ensure` first: a read never writes."""
    return (
        Attempt.objects.filter(sitting=sitting)
        .select_related("person")
        .order_by("person__family_name", "person__given_name")
    )


def exempt_students_of_sitting(*, sitting: Sitting) -> list[Person]:
    """Students of the sitting's unit exempt from its subtest (or the whole test), for its room.

    An exemption withdraws the student's placement, so the room would never show them. Each
    exempt student belongs to one room of the unit: the sitting where they had been placed (an
    attempt there), otherwise the unit's first regular sitting of the subtest. Two queries.
    """
    unit_id, subtest = sitting.school_unit_id, sitting.subtest
    home = (
        Sitting.objects.filter(school_unit_id=unit_id, subtest_id=subtest.pk, is_catch_up=False)
        .exclude(status=SittingStatus.POSTPONED)
        .order_by("starts_at", "room__name", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    exempt = exemptions_covering(subtest=subtest).filter(school_unit_id=unit_id).values("person_id")
    attempts = Attempt.objects.filter(
        sitting__school_unit_id=unit_id, sitting__subtest_id=subtest.pk, person_id=OuterRef("pk")
    )
    here = Exists(attempts.filter(sitting_id=sitting.pk))
    elsewhere = Exists(attempts.exclude(sitting_id=sitting.pk))
    wanted = Q(here=True) | Q(elsewhere=False) if home == sitting.pk else Q(here=True)
    return list(
        Person.objects.filter(pk__in=exempt)
        .annotate(here=here, elsewhere=elsewhere)
        .filter(wanted)
        .order_by("family_name", "given_name")
    )


def access_attempt(*, user: AnyUser, sitting: Sitting, public_id) -> Attempt:
    return get_or_not_found(
        Attempt.objects.select_related("sitting__school_unit", "person"),
        sitting=sitting,
        public_id=public_id,
    )


def items_of(*, attempt: Attempt) -> list[Item]:
    return list(Item.objects.filter(subtest_id=attempt.sitting.subtest_id).order_by("position"))


def tools_of(*, attempt: Attempt) -> list[str]:
    """The tools the student's exam client offers: the subtest's own plus those the student's
    adjustment adds (only those the subtest permits), no others. The dictionary only where the
    definition provides one."""
    subtest = attempt.sitting.subtest
    tools = tools_for(person=attempt.person, subtest=subtest)
    if not subtest.dictionary:
        tools = [t for t in tools if t != Tool.DICTIONARY]
    return tools


def responses_of(*, attempt: Attempt) -> dict[str, dict]:
    """What the server holds, keyed by item public id, for the client to merge by sequence."""
    rows = Response.objects.filter(attempt=attempt).values(
        "item__public_id", "content", "seq", "flagged", "late"
    )
    return {
        str(r["item__public_id"]): {
            "content": r["content"],
            "seq": r["seq"],
            "flagged": r["flagged"],
            "late": r["late"],
        }
        for r in rows
    }


def todays_sittings_for(
    *, user: User, school_unit: SchoolUnit, now: datetime.datetime | None = None
) -> list[Sitting]:
    """The unit's sittings today (in the unit's own time zone) that the user may supervise.

    Sittings the user is proctor of come first, then by start time. Each carries `is_mine`,
    `student_count`, `submitted_count`, `starts_local` and `starts_time` (the unit's clock, the
    latter naive so templates do not convert it to the server's zone). One query, however
    many sittings and students.
    """
    zone = unit_zone(school_unit)
    today = (now or timezone.now()).astimezone(zone).date()
    start = datetime.datetime.combine(today, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min, zone)
    mine = (
        Exists(SittingProctor.objects.filter(sitting=OuterRef("pk"), person_id=user.person_id))
        if user.person_id
        else Value(False)
    )
    placed = (
        SittingStudent.objects.filter(sitting=OuterRef("pk"))
        .values("sitting")
        .annotate(n=Count("pk"))
        .values("n")
    )
    submitted = (
        Attempt.objects.filter(sitting=OuterRef("pk"), status=AttemptStatus.SUBMITTED)
        .values("sitting")
        .annotate(n=Count("pk"))
        .values("n")
    )
    sittings = list(
        sittings_for(user=user)
        .select_related("subtest__test")
        .filter(school_unit=school_unit, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=SittingStatus.POSTPONED)
        .annotate(
            is_mine=mine,
            student_count=Coalesce(Subquery(placed, output_field=IntegerField()), 0),
            submitted_count=Coalesce(Subquery(submitted, output_field=IntegerField()), 0),
        )
        .order_by(F("is_mine").desc(), "starts_at", "room__name")
    )
    for sitting in sittings:
        sitting.starts_local = sitting.starts_at.astimezone(zone)
        sitting.starts_time = sitting.starts_local.time()
    return sittings


def room_details(*, sitting: Sitting, person_ids: list[int]) -> dict:
    """What the proctor's room shows beside the statuses, in three queries however many
    students: each student's login name (to tell two of the same name apart), their adjustments
    on this subtest, and the names of the teaching groups the students belong to."""
    usernames = dict(
        StudentCredential.objects.filter(person_id__in=person_ids).values_list(
            "person_id", "username"
        )
    )
    adjustments = adjustments_by_person(
        subtest=sitting.subtest, school_unit_id=sitting.school_unit_id, person_ids=person_ids
    )
    today = timezone.localdate()
    groups = list(
        TeachingGroup.objects.filter(
            school_unit_id=sitting.school_unit_id,
            groupmembership__person_id__in=person_ids,
        )
        .filter(Q(groupmembership__end_date__isnull=True) | Q(groupmembership__end_date__gte=today))
        .values_list("name", flat=True)
        .distinct()
        .order_by("name")
    )
    return {"usernames": usernames, "adjustments": adjustments, "groups": groups}
