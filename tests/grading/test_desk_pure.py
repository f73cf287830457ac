"""The scoring guide split into criteria, and anonymous student codes."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from grading.anonymity import student_code
from grading.criteria import criteria_of

GUIDE = (
    "E: beräknar en volym (1 p). C: korrekt volym 98 liter (2 p).\n"
    "A: korrekt höjning 0,5 cm med tydlig redovisning (2 p)."
)


def test_a_guide_with_points_per_part_gives_criteria():
    criteria = criteria_of(GUIDE, max_points=5)
    assert [(c.key, c.max_points) for c in criteria] == [("c1", 1), ("c2", 2), ("c3", 2)]
    assert criteria[1].label == "C: korrekt volym 98 liter"


def test_a_guide_whose_parts_do_not_add_up_to_the_maximum_gives_none():
    assert criteria_of(GUIDE, max_points=6) == []


def test_a_guide_in_prose_gives_none():
    assert criteria_of("Läraren sier lyden /s/.", max_points=1) == []
    assert criteria_of("E: a (1 p). C: b (1 p). Trailing words", max_points=2) == []


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=2, max_size=6))
def test_criteria_points_always_add_up_to_the_maximum(points):
    guide = " ".join(f"Del {n}: gör något ({p} p)." for n, p in enumerate(points))
    criteria = criteria_of(guide, max_points=sum(points))
    assert [c.max_points for c in criteria] == points


def test_student_codes_are_stable_per_subtest_and_differ_between_subtests():
    person, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    code = student_code(subtest_public_id=first, person_public_id=person)
    assert code == student_code(subtest_public_id=first, person_public_id=person)
    assert code != student_code(subtest_public_id=second, person_public_id=person)
    assert len(code) == 7 and code[3] == "-"


def test_student_codes_of_a_class_do_not_collide():
    subtest = uuid.uuid4()
    codes = {
        student_code(subtest_public_id=subtest, person_public_id=uuid.uuid4()) for _ in range(500)
    }
    assert len(codes) == 500
