"""Per-part grade requirements in the definition format, and a stored test's grade from them."""

import datetime

import pytest

from exams.definitions.format import parse_definition
from results.models import TestResult
from results.services import results_compute
from tests.results.helpers import enter, national_test, score, sit

TODAY = datetime.date(2027, 3, 1)


def _definition(**extra) -> dict:
    data = {
        "code": "np-ma-ak9",
        "title": "Nationellt prov i matematik",
        "programme": "se_national",
        "subject": "Matematik",
        "grade": 9,
        "window": {"start": "2027-03-10", "end": "2027-04-10"},
        "grade_boundaries": {"E": 4, "C": 7, "A": 10},
        "subtests": [
            {"code": "A", "title": "Muntligt", "on_platform": False, "max_points": 4},
            {
                "code": "B",
                "title": "Skriftligt",
                "items": [
                    {"id": f"b{i}", "kind": "extended_text", "html": "<p>?</p>", "points": 2}
                    for i in range(4)
                ],
            },
        ],
    }
    data.update(extra)
    return data


def test_requirements_are_read_and_checked():
    spec, problems = parse_definition(_definition(grade_requirements={"C": {"B": 5}}), today=TODAY)
    assert problems == [] and spec["grade_requirements"] == {"C": {"B": 5}}
    _spec, problems = parse_definition(
        _definition(grade_requirements={"C": {"X": 5}, "D": {"B": 1}, "A": {"B": 9}}), today=TODAY
    )
    paths = {p.path for p in problems}
    assert paths == {"grade_requirements.C.X", "grade_requirements.D", "grade_requirements.A.B"}
    _spec, problems = parse_definition(
        _definition(
            programme="no_mapping", grade_boundaries={}, grade_requirements={"C": {"B": 1}}
        ),
        today=TODAY,
    )
    assert "grade_requirements" in {p.path for p in problems}


@pytest.mark.django_db
def test_a_stored_requirement_lowers_the_grade(world):
    # C from 7 points, but C requires 5 points in the written part B
    test = national_test(boundaries={"E": 4, "C": 7, "A": 11}, requirements={"C": {"B": 5}})
    written, oral = test.subtests.order_by("position")
    low, high = world.students_a[:2]
    attempts = sit(world.unit, written, [low, high])
    score(attempts[0], [1, 1, 1, 1, 0, 0, 0, 0])  # 4 in B
    score(attempts[1], [1, 1, 1, 1, 1, 0, 0, 0])  # 5 in B
    enter(world.unit, oral, low, 4)
    enter(world.unit, oral, high, 3)
    result_set = results_compute(school_unit=world.unit, test=test)
    grades = {
        r.person_id: (r.points, r.grade) for r in TestResult.objects.filter(result_set=result_set)
    }
    assert grades[low.id] == (8, "E") and grades[high.id] == (8, "C")
