import pytest

from results.services import results_compute
from tests.results.helpers import mapping_test, score, sit


@pytest.fixture
def sat(world):
    """A reading test sat by both groups of the unit, by the sibling unit and by a unit of the
    other organiser, with results computed everywhere. Returns {unit: result set}."""
    test = mapping_test(items=(7, 4), thresholds=(3, 1))
    first, second = test.subtests.order_by("position")
    cohorts = {
        world.unit: world.students_a + world.students_b,
        world.sibling_unit: world.sibling_students,
        world.other_org_unit: world.other_org_students,
    }
    sets = {}
    for unit, students in cohorts.items():
        for index, attempt in enumerate(sit(unit, first, students)):
            score(attempt, [1] * (index % 7) + [0] * (7 - index % 7))
        for attempt in sit(unit, second, students):
            score(attempt, [1, 1, 0, 0])
        sets[unit] = results_compute(school_unit=unit, test=test)
    return sets
