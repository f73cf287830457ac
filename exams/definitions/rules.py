"""The rules every write on a test definition keeps, as checks that refuse the write.

- only the platform operator writes definitions;
- a retired test is never edited or published again;
- once a subtest is frozen (someone has started it), its items, and what results are judged by,
  never change: corrections go into a new version of the test;
- a definition is valid after every write (the validator in exams.definitions.format).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from exams.definitions.format import check_test
from exams.definitions.problems import DefinitionInvalid
from exams.definitions.selectors import is_operator
from exams.models import DefinitionStatus, Subtest, TestDefinition
from provplattform.errors import Refused

if TYPE_CHECKING:
    from schools.models import User


class DefinitionRefused(Refused):
    """A write the rules forbid; the message says why."""


def refuse_non_operator(actor: User) -> None:
    if not is_operator(actor):
        raise DefinitionRefused(_("Only the platform operator may change test definitions."))


def refuse_retired(test: TestDefinition) -> None:
    if test.status == DefinitionStatus.RETIRED:
        raise DefinitionRefused(_("This test is retired and can no longer be changed."))


def refuse_frozen(subtest: Subtest) -> None:
    if subtest.frozen_at is not None:
        raise DefinitionRefused(
            _(
                "Students have already sat %(subtest)s, so its items are frozen. "
                "Make a new version of the test to correct them."
            )
            % {"subtest": subtest.title}
        )


# What a student who has sat a subtest was measured against: never changed afterwards.
FROZEN_SUBTEST_FIELDS = {
    "max_points",
    "on_platform",
    "concern_threshold",
    "duration_minutes",
    "permitted_adjustments",
}
FROZEN_TEST_FIELDS = {
    "grade_boundaries",
    "grade_requirements",
    "concern_threshold",
    "grade",
    "window_start",
    "window_end",
}


def refuse_frozen_fields(changes: dict, frozen_fields: set[str], subtests) -> None:
    touched = sorted(set(changes) & frozen_fields)
    if not touched:
        return
    for subtest in subtests:
        if subtest.frozen_at is not None:
            raise DefinitionRefused(
                _(
                    "Students have already sat %(subtest)s, so these settings are frozen: "
                    "%(fields)s. Make a new version of the test to correct them."
                )
                % {"subtest": subtest.title, "fields": ", ".join(touched)}
            )


def require_valid(test: TestDefinition) -> None:
    problems = check_test(test)
    if problems:
        raise DefinitionInvalid(problems)
