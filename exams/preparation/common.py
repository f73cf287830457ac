"""What the writing modules of the preparation share: the refusal they raise, the summary a bulk
action returns, and the checks every service makes before it changes anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from exams.models import PROGRAMME_COUNTRY, DefinitionStatus, TestDefinition
from provplattform.errors import Refused
from schools.models import Person, SchoolUnit, User
from schools.roles import Capability
from schools.selectors import user_has_capability


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


def person_entry(person: Person, **extra) -> dict:
    return {"person": str(person.public_id), "name": person.full_name, **extra}


def require_capability(actor: User | None, school_unit: SchoolUnit, capability: Capability) -> None:
    if actor is None:  # system jobs (beat, transfer hook, demo seed)
        return
    if not user_has_capability(user=actor, school_unit=school_unit, capability=capability):
        raise ExamRefused(_("You may not do this at this school unit."))


def is_administrator(actor: User | None, school_unit: SchoolUnit) -> bool:
    return actor is not None and user_has_capability(
        user=actor, school_unit=school_unit, capability=Capability.ADMINISTER_TESTS
    )


def check_same_unit(obj, school_unit: SchoolUnit) -> None:
    if obj.school_unit_id != school_unit.pk:
        raise ExamRefused(_("That belongs to another school unit."))


def check_published(test: TestDefinition) -> None:
    if test.status != DefinitionStatus.PUBLISHED:
        raise ExamRefused(_("The test is not published."))


def check_programme(test: TestDefinition, school_unit: SchoolUnit) -> None:
    if PROGRAMME_COUNTRY.get(test.programme) != school_unit.organiser.country:
        raise ExamRefused(_("This test is not given in this school unit's country."))
