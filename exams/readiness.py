"""Readiness: the routine questions before a sitting, turned into green/amber/red checks.

Each check links to the page where it is fixed. Red means the sitting cannot go ahead as planned;
amber means something is missing that the school should look at (a backup proctor, adjustments
not yet confirmed, a late change in the organiser's data, a day password not yet made).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exams.day_passwords import unit_today, unit_zone
from exams.models import (
    Adjustment,
    Assignment,
    ChecklistAcknowledgement,
    DayPassword,
    Exemption,
    PaperReplacement,
    Sitting,
    SittingProctor,
    SittingStatus,
    SittingStudent,
    SubtestStart,
)
from exams.preparation.rules import (
    TECHNICAL_ITEMS,
    TECHNICAL_KEYS,
    StaffStanding,
    enrolled_ids,
    proctor_refusal,
    result_enterer_refusal,
    staff_standings,
)
from schools.models import Person, SchoolUnit, User
from schools.roles import Capability

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

GREEN, AMBER, RED = "green", "amber", "red"
_RANK = {GREEN: 0, AMBER: 1, RED: 2}
NAMES_SHOWN = 10


@dataclass
class Check:
    key: str
    label: StrOrPromise
    state: str
    detail: str = ""
    fix_url: str = ""
    # Sub-items ticked one by one (the technical checklist): key, label, who ticked it.
    items: list[dict] = field(default_factory=list)


@dataclass
class SittingReadiness:
    sitting: Sitting
    checks: list[Check] = field(default_factory=list)

    @property
    def state(self) -> str:
        return max((c.state for c in self.checks), key=_RANK.__getitem__, default=GREEN)


def _grouped(rows, key: str) -> dict:
    found: dict = {}
    for row in rows:
        found.setdefault(getattr(row, key), []).append(row)
    return found


def _ids_by(rows, key: str) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for row in rows:
        found.setdefault(row[key], set()).add(row["person_id"])
    return found


class _Facts:
    """Everything the checks read about a unit's sittings, loaded once for all of them: the
    readiness of 3 or 30 sittings costs the same dozen queries."""

    def __init__(self, sittings: list[Sitting]):
        ids = [s.pk for s in sittings]
        subtests = {s.subtest_id for s in sittings}
        units = {s.school_unit_id for s in sittings}
        self.unit = sittings[0].school_unit if sittings else None
        self.students = _grouped(
            SittingStudent.objects.filter(sitting_id__in=ids).select_related("person"), "sitting_id"
        )
        self.proctorships = _grouped(
            SittingProctor.objects.filter(sitting_id__in=ids)
            .select_related("person")
            .order_by("pk"),
            "sitting_id",
        )
        staff = {p.person for rows in self.proctorships.values() for p in rows}
        staff |= {s.results_entered_by for s in sittings if s.results_entered_by is not None}
        self.standings: dict[int, StaffStanding] = (
            staff_standings(self.unit, staff) if self.unit else {}
        )
        self.assigned = _ids_by(
            Assignment.objects.filter(school_unit_id__in=units, subtest_id__in=subtests).values(
                "subtest_id", "person_id"
            ),
            "subtest_id",
        )
        self.placed = _ids_by(
            SittingStudent.objects.filter(
                sitting__school_unit_id__in=units,
                sitting__subtest_id__in=subtests,
                sitting__status=SittingStatus.SCHEDULED,
            ).values("sitting__subtest_id", "person_id"),
            "sitting__subtest_id",
        )
        self.started = _ids_by(
            SubtestStart.objects.filter(subtest_id__in=subtests).values("subtest_id", "person_id"),
            "subtest_id",
        )
        self.on_paper = _ids_by(
            PaperReplacement.objects.filter(subtest_id__in=subtests).values(
                "subtest_id", "person_id"
            ),
            "subtest_id",
        )
        tests = {s.subtest.test_id for s in sittings}
        self.exemptions = list(
            Exemption.objects.filter(test_id__in=tests).values("test_id", "subtest_id", "person_id")
        )
        self.adjustments = list(
            Adjustment.objects.filter(
                person_id__in=[p.person_id for rows in self.students.values() for p in rows],
                test_id__in=tests,
            ).values("test_id", "subtest_id", "person_id")
        )
        self.acks = {
            (ack.sitting_id, ack.key): ack
            for ack in ChecklistAcknowledgement.objects.filter(sitting_id__in=ids).select_related(
                "acknowledged_by__person"
            )
        }
        self.acknowledged = set(self.acks)
        self.password_days = set(
            DayPassword.objects.filter(school_unit_id__in=units).values_list("date", flat=True)
        )
        self._enrolled: dict[datetime.date, set[int]] = {}

    def enrolled(self, unit: SchoolUnit, day: datetime.date) -> set[int]:
        if day not in self._enrolled:
            self._enrolled[day] = enrolled_ids(unit, today=day)
        return self._enrolled[day]

    def exempt(self, subtest) -> set[int]:
        return {
            e["person_id"]
            for e in self.exemptions
            if e["test_id"] == subtest.test_id and e["subtest_id"] in (None, subtest.pk)
        }

    def persons(self, sitting: Sitting) -> list:
        """The sitting's students and proctors, each once."""
        found = {p.person_id: p.person for p in self.students.get(sitting.pk, [])}
        found |= {p.person_id: p.person for p in self.proctorships.get(sitting.pk, [])}
        return list(found.values())


def _url(name: str, unit: SchoolUnit, *args, query: str = "") -> str:
    try:
        url = reverse(name, args=[unit.public_id, *args])
    except NoReverseMatch:
        return ""
    return f"{url}?{query}" if query else url


def _names(persons: list) -> str:
    """A readable list of who fails a check; long lists end with how many more."""
    names = sorted(p.full_name for p in persons)
    shown = ", ".join(names[:NAMES_SHOWN])
    if len(names) > NAMES_SHOWN:
        shown += " " + str(_("and %(count)d more") % {"count": len(names) - NAMES_SHOWN})
    return shown


def _transfer_check(sitting: Sitting, facts: _Facts) -> Check:
    """Every student and proctor of the sitting, person by person: transferred (created) at
    least TRANSFER_FIRST_MIN_DAYS before the sitting and not changed by a transfer within
    TRANSFER_UPDATE_MIN_DAYS before it."""
    label = _("The organiser transferred users in time")
    fix = _url("unit-staff", sitting.school_unit)
    lead = sitting.starts_at - datetime.timedelta(days=settings.TRANSFER_FIRST_MIN_DAYS)
    freeze = sitting.starts_at - datetime.timedelta(days=settings.TRANSFER_UPDATE_MIN_DAYS)
    persons = facts.persons(sitting)
    late = [p for p in persons if p.created > lead]
    if late:
        detail = _("Transferred less than %(days)d days before the sitting: %(names)s.") % {
            "days": settings.TRANSFER_FIRST_MIN_DAYS,
            "names": _names(late),
        }
        return Check("transfer", label, RED, str(detail), fix)
    changed = [p for p in persons if p.modified > freeze]
    if changed:
        detail = _(
            "Changed by the organiser less than %(days)d days before the sitting: %(names)s. "
            "Check rooms, assignments and roles."
        ) % {"days": settings.TRANSFER_UPDATE_MIN_DAYS, "names": _names(changed)}
        return Check("transfer", label, AMBER, str(detail), fix)
    return Check("transfer", label, GREEN)


def _placement_check(sitting: Sitting, facts: _Facts) -> Check:
    unit = sitting.school_unit
    label = _("Every assigned student is in a sitting and a room")
    # Students who have left the unit are no longer the unit's to place.
    day = unit_today(unit, sitting.starts_at)
    assigned = facts.assigned.get(sitting.subtest_id, set()) & facts.enrolled(unit, day)
    placed = facts.placed.get(sitting.subtest_id, set())
    # Students who sat the subtest (started it on the platform, in a sitting since ended, or did
    # it on paper) are done, not "not placed".
    done = facts.started.get(sitting.subtest_id, set()) | facts.on_paper.get(
        sitting.subtest_id, set()
    )
    missing = assigned - placed - done - facts.exempt(sitting.subtest)
    fix = _url("exams-assignments", unit, query=f"subtest={sitting.subtest.public_id}&unplaced=1")
    if not assigned:
        return Check(
            "placement",
            label,
            RED,
            str(_("No student is assigned this subtest.")),
            _url("exams-assignments", unit),
        )
    if missing:
        return Check(
            "placement",
            label,
            RED,
            str(_("%(count)d assigned students are not placed.") % {"count": len(missing)}),
            fix,
        )
    return Check("placement", label, GREEN)


def _proctor_check(sitting: Sitting, facts: _Facts) -> list[Check]:
    unit = sitting.school_unit
    fix = _url("exams-sitting", unit, sitting.public_id)
    mains: list[Person] = []
    backups: list[Person] = []
    for proctorship in facts.proctorships.get(sitting.pk, []):
        standing = facts.standings[proctorship.person_id]
        if proctor_refusal(proctorship.person, unit, standing) is None:
            (backups if proctorship.is_backup else mains).append(proctorship.person)
    checks = [
        Check(
            "proctor",
            _("A proctor who holds the role"),
            GREEN if mains else RED,
            "" if mains else str(_("No proctor with the role.")),
            "" if mains else fix,
        ),
        Check(
            "backup_proctor",
            _("A backup proctor"),
            GREEN if backups else AMBER,
            "" if backups else str(_("No backup proctor.")),
            "" if backups else fix,
        ),
    ]
    return checks


def _acknowledged(sitting: Sitting, key: str, facts: _Facts) -> bool:
    """Only a confirmation of this very sitting counts: a checklist done for one day says
    nothing about the next."""
    return (sitting.pk, key) in facts.acknowledged


def _adjustment_check(sitting: Sitting, facts: _Facts) -> Check:
    label = _("Adjustments entered")
    if not (sitting.subtest.permitted_adjustments or []):
        return Check("adjustments", label, GREEN, str(_("The subtest permits no adjustments.")))
    students = {p.person_id for p in facts.students.get(sitting.pk, [])}
    entered = sum(
        1
        for a in facts.adjustments
        if a["person_id"] in students
        and a["test_id"] == sitting.subtest.test_id
        and a["subtest_id"] in (None, sitting.subtest_id)
    )
    if _acknowledged(sitting, "adjustments_reviewed", facts):
        return Check(
            "adjustments", label, GREEN, str(_("Reviewed; %(count)d entered.") % {"count": entered})
        )
    return Check(
        "adjustments",
        label,
        AMBER,
        str(
            _("%(count)d entered; confirm that every decided adjustment is in.")
            % {"count": entered}
        ),
        _url("exams-adjustments", sitting.school_unit),
    )


def _day_password_check(sitting: Sitting, facts: _Facts) -> Check | None:
    if not sitting.subtest.on_platform:
        return None
    day = unit_today(sitting.school_unit, sitting.starts_at)
    ready = day in facts.password_days
    return Check(
        "day_password",
        _("Day password ready"),
        GREEN if ready else AMBER,
        "" if ready else str(_("Not yet made; open the day password page.")),
        ""
        if ready
        else _url("exams-day-password", sitting.school_unit, query=f"date={day.isoformat()}"),
    )


def _result_entry_check(sitting: Sitting, facts: _Facts) -> Check | None:
    if sitting.subtest.on_platform:
        return None
    label = _("Someone to enter the results of this off-platform subtest")
    fix = _url("exams-sitting", sitting.school_unit, sitting.public_id)
    person = sitting.results_entered_by
    if person is None:
        return Check("result_entry", label, RED, str(_("Nobody is named to enter them.")), fix)
    refusal = result_enterer_refusal(person, sitting.school_unit, facts.standings[person.pk])
    if refusal:
        return Check("result_entry", label, RED, str(refusal), fix)
    return Check("result_entry", label, GREEN, person.full_name)


def _ticker_name(user: User | None) -> str:
    if user is None:
        return ""
    person = getattr(user, "person", None)
    return person.full_name if person is not None else user.get_full_name() or user.username


def _technical_check(sitting: Sitting, facts: _Facts) -> Check:
    """The technical routine, item by item, each ticked for this sitting by a named person."""
    items = []
    for (item, item_label), key in zip(TECHNICAL_ITEMS.items(), TECHNICAL_KEYS, strict=True):
        ack = facts.acks.get((sitting.pk, key))
        items.append(
            {
                "key": key,
                "item": item,
                "label": str(item_label),
                "ticked_by": _ticker_name(ack.acknowledged_by) if ack else None,
                "ticked_at": ack.created if ack else None,
            }
        )
    left = [str(i["label"]) for i in items if i["ticked_by"] is None]
    label = _("Technical checklist")
    if not left:
        return Check("technical_checklist", label, GREEN, items=items)
    detail = _("%(done)d of %(total)d ticked. Still to do: %(items)s.") % {
        "done": len(items) - len(left),
        "total": len(items),
        "items": "; ".join(left),
    }
    fix = _url("exams-readiness", sitting.school_unit)
    return Check("technical_checklist", label, RED, str(detail), fix, items=items)


def sitting_readiness(sitting: Sitting, facts: _Facts | None = None) -> SittingReadiness:
    facts = facts or _Facts([sitting])
    checks = [
        _transfer_check(sitting, facts),
        _placement_check(sitting, facts),
        *_proctor_check(sitting, facts),
        _adjustment_check(sitting, facts),
        _day_password_check(sitting, facts),
        _result_entry_check(sitting, facts),
        _technical_check(sitting, facts),
    ]
    return SittingReadiness(sitting=sitting, checks=[c for c in checks if c is not None])


def unit_readiness(
    *,
    school_unit: SchoolUnit,
    now: datetime.datetime | None = None,
    limit: int | None = None,
    room=None,
) -> list[SittingReadiness]:
    """Readiness of every scheduled sitting from today on (the unit's own time zone).

    `room` (a room of the unit) keeps only the sittings in that room.
    """
    now = now or timezone.now()
    local = now.astimezone(unit_zone(school_unit))
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    sittings = (
        Sitting.objects.filter(
            school_unit=school_unit, status=SittingStatus.SCHEDULED, starts_at__gte=start_of_day
        )
        .select_related(
            "subtest__test",
            "room",
            "school_unit__organiser",
            "results_entered_by",
            "postponed_to",
        )
        .prefetch_related("proctorships__person")
        .order_by("starts_at")
    )
    if room is not None:
        sittings = sittings.filter(room=room)
    if limit:
        sittings = sittings[:limit]
    rows = list(sittings)
    facts = _Facts(rows)
    return [sitting_readiness(s, facts) for s in rows]


def dashboard_panel_context(request, unit, capabilities) -> dict | None:
    """schools.dashboard panel: the next sittings' readiness, for those who prepare them."""
    if Capability.ADMINISTER_TESTS not in capabilities:
        return None
    return {"sittings": unit_readiness(school_unit=unit, limit=5)}
