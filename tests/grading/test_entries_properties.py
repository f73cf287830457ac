"""For any set of typed rows: either every row is accepted and saved, or none is saved and every
refused row is named — never a part."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grading.entries_services import EntriesRefused, entries_check, entries_save
from grading.models import SubtestEntry
from schools.roles import Role
from tests.factories import AssignmentFactory, SubtestFactory

MAX = 20


@pytest.fixture
def oral(world):
    subtest = SubtestFactory(on_platform=False, max_points=MAX)
    for person in world.students_a:
        AssignmentFactory(school_unit=world.unit, subtest=subtest, person=person)
    world.oral = subtest
    return world


points = st.one_of(
    st.integers(min_value=-3, max_value=MAX + 3),
    st.sampled_from(["7", "7,0", "7.5", "sju", "", None, True]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(st.integers(min_value=0, max_value=4), points), max_size=6))
def test_rows_are_saved_all_or_none(oral, rows):
    SubtestEntry.objects.all().delete()
    people = [*oral.students_a, oral.sibling_students[0], oral.students_b[0]]
    typed = [
        {"row": n, "student": str(people[who].public_id), "subtest": str(oral.oral.public_id),
         "points": value}
        for n, (who, value) in enumerate(rows, start=1)
    ]  # fmt: skip
    checked = entries_check(school_unit=oral.unit, rows=typed)
    actor = oral.staff[Role.TEACHER]
    if checked.problems:
        with pytest.raises(EntriesRefused) as refused:
            entries_save(actor=actor, school_unit=oral.unit, rows=typed)
        assert {p["row"] for p in refused.value.problems} == {p["row"] for p in checked.problems}
        assert not SubtestEntry.objects.exists()
    else:
        entries_save(actor=actor, school_unit=oral.unit, rows=typed)
        assert SubtestEntry.objects.count() == len(checked.valid)
        for row in checked.valid:
            assert 0 <= row["points"] <= MAX
    # a row is refused exactly when its points are not whole, out of range, its student is not
    # assigned the subtest here, or it repeats an earlier row
    seen, expected_bad = set(), set()
    for n, (who, value) in enumerate(rows, start=1):
        if value is None or value == "":
            continue
        whole = (
            isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX
        ) or value in ("7", "7,0")
        if who >= 3 or who in seen or not whole:
            expected_bad.add(n)
        if who < 3:
            seen.add(who)
    assert {p["row"] for p in checked.problems} == expected_bad
