"""Who still has to sit: per subtest, the students who missed it (absent, ill, arrived later),
so a catch-up sitting can be planned in a few clicks.

A read, scoped to the unit: only subtests of the unit that have had a sitting end and whose window
is still open, only students assigned there, enrolled, not exempt, who have not started the
subtest, did not do it on paper and are not placed in a scheduled sitting of it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.http import urlencode

from exams.day_passwords import unit_today
from exams.models import Assignment, Sitting, SittingStatus, SittingStudent, Subtest
from exams.preparation.rules import enrolled_ids, exempt_ids, started_ids
from schools.models import Person, SchoolUnit
from schools.roles import Capability

ABSENT = "absent"  # placed in a sitting that ended without them starting
NOT_PLACED = "not_placed"  # assigned, never placed, while others have sat it


@dataclass
class StillToSit:
    person: Person
    reason: str
    missed: Sitting | None = None  # the ended sitting they were placed in


@dataclass
class SubtestStillToSit:
    subtest: Subtest
    students: list[StillToSit] = field(default_factory=list)

    @property
    def window_end(self) -> datetime.date:
        """The last day a catch-up sitting can be held."""
        return self.subtest.effective_window[1]

    def plan_url(self, school_unit: SchoolUnit) -> str:
        """The sittings page with a catch-up of this subtest for these students filled in."""
        query = [("subtest", str(self.subtest.public_id)), ("catch_up", "1")]
        query += [("students", str(s.person.public_id)) for s in self.students]
        return reverse("exams-sittings", args=[school_unit.public_id]) + "?" + urlencode(query)


def still_to_sit(
    *, school_unit: SchoolUnit, today: datetime.date | None = None
) -> list[SubtestStillToSit]:
    """The unit's students still to sit, per subtest (a few queries per subtest)."""
    today = today or unit_today(school_unit)
    ended = Sitting.objects.filter(school_unit=school_unit, status=SittingStatus.ENDED)
    subtests = (
        Subtest.objects.filter(pk__in=ended.values("subtest_id"), on_platform=True)
        .select_related("test")
        .order_by("test__title", "position")
    )
    enrolled = enrolled_ids(school_unit, today=today)
    result = []
    for subtest in subtests:
        if subtest.effective_window[1] < today:
            continue  # the window has closed: no catch-up is possible any more
        assigned = set(
            Assignment.objects.filter(school_unit=school_unit, subtest=subtest).values_list(
                "person_id", flat=True
            )
        )
        placements = SittingStudent.objects.filter(
            sitting__school_unit=school_unit, sitting__subtest=subtest
        ).select_related("sitting__room")
        scheduled, missed = set(), {}
        for placement in placements:
            if placement.sitting.status == SittingStatus.SCHEDULED:
                scheduled.add(placement.person_id)
            elif placement.sitting.status == SittingStatus.ENDED:
                missed[placement.person_id] = placement.sitting
        todo = (
            (assigned & enrolled) - scheduled - started_ids(subtest=subtest) - exempt_ids(subtest)
        )
        if not todo:
            continue
        persons = Person.objects.filter(pk__in=todo).order_by("family_name", "given_name")
        result.append(
            SubtestStillToSit(
                subtest=subtest,
                students=[
                    StillToSit(
                        person=p,
                        reason=ABSENT if p.pk in missed else NOT_PLACED,
                        missed=missed.get(p.pk),
                    )
                    for p in persons
                ],
            )
        )
    return result


def dashboard_panel_context(request, unit, capabilities) -> dict | None:
    """schools.dashboard panel: how many still have to sit, for those who plan sittings."""
    if Capability.ADMINISTER_TESTS not in capabilities:
        return None
    groups = still_to_sit(school_unit=unit)
    if not groups:
        return None
    return {"groups": groups, "count": sum(len(g.students) for g in groups)}
