"""The distribution core (grading/distribution.py) for any responses and assessors."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from grading.distribution import (
    ANY,
    AVOID,
    BY_ITEM,
    BY_STUDENT,
    MIXED,
    PREFER,
    Assessor,
    Work,
    distribute,
    loads_of,
    place_newcomers,
    redistribute,
)


@st.composite
def scenarios(draw, modes=(BY_STUDENT, BY_ITEM, MIXED)):
    item_weights = draw(st.lists(st.integers(1, 6), min_size=1, max_size=8))
    students = draw(st.integers(1, 25))
    # Not every student answers every person-graded item (absent items, late joiners).
    present = draw(
        st.lists(
            st.lists(st.booleans(), min_size=len(item_weights), max_size=len(item_weights)),
            min_size=students,
            max_size=students,
        )
    )
    works = [
        Work(key=(s, i), student=s, item=i, weight=w, item_order=i)
        for s in range(students)
        for i, w in enumerate(item_weights)
        if present[s][i]
    ]
    count = draw(st.integers(1, 7))
    assessors = [
        Assessor(
            key=f"a{k}",
            own_students=frozenset(draw(st.sets(st.integers(0, max(students - 1, 0))))),
        )
        for k in range(count)
    ]
    mode = draw(st.sampled_from(modes))
    by_item = draw(st.sets(st.integers(0, len(item_weights) - 1))) if mode == MIXED else set()
    own = draw(st.sampled_from([ANY, AVOID, PREFER]))
    return works, assessors, mode, by_item, own


def _bound(works, mode, by_item) -> int:
    """One item's weight by item; one student's work by student (the heavier of both, mixed)."""
    student_work = Counter()
    heaviest_item = 0
    for w in works:
        if mode == BY_ITEM or (mode == MIXED and w.item in by_item):
            heaviest_item = max(heaviest_item, w.weight)
        else:
            student_work[w.student] += w.weight
    return max([heaviest_item, *student_work.values()])


def _spread(assignment, works, assessors) -> int:
    loads = loads_of(assignment, works)
    values = [loads.get(a.key, 0) for a in assessors]
    return max(values) - min(values)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_every_response_is_assigned_exactly_once_and_loads_are_balanced(scenario):
    works, assessors, mode, by_item, own = scenario
    assignment = distribute(
        works=works, assessors=assessors, mode=mode, by_item_items=by_item, own_groups=own
    )
    assert set(assignment) == {w.key for w in works}
    assert set(assignment.values()) <= {a.key for a in assessors}
    if works:
        assert _spread(assignment, works, assessors) <= _bound(works, mode, by_item)


@settings(max_examples=100, deadline=None)
@given(scenarios(modes=(BY_STUDENT,)))
def test_by_student_gives_all_of_a_students_responses_to_one_assessor(scenario):
    works, assessors, mode, _by_item, own = scenario
    assignment = distribute(works=works, assessors=assessors, mode=mode, own_groups=own)
    holders: dict = {}
    for w in works:
        holders.setdefault(w.student, set()).add(assignment[w.key])
    assert all(len(h) == 1 for h in holders.values())


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.data())
def test_redistribution_never_moves_an_assessed_response(scenario, data):
    works, assessors, mode, by_item, own = scenario
    first = distribute(
        works=works, assessors=assessors, mode=mode, by_item_items=by_item, own_groups=own
    )
    assessed = data.draw(st.sets(st.sampled_from([w.key for w in works]))) if works else set()
    current = [
        Work(w.key, w.student, w.item, w.weight, w.item_order, first[w.key], w.key in assessed)
        for w in works
    ]
    # someone falls ill (when there is more than one), someone may join
    remaining = assessors[1:] or assessors
    if data.draw(st.booleans()):
        remaining = [*remaining, Assessor(key="new")]
    second = redistribute(
        works=current, assessors=remaining, mode=mode, by_item_items=by_item, own_groups=own
    )
    assert set(second) == {w.key for w in works}
    for w in current:
        if w.assessed:
            assert second[w.key] == w.assessor
        else:
            assert second[w.key] in {a.key for a in remaining}
    open_works = [w for w in current if not w.assessed]
    if open_works:
        open_assignment = {w.key: second[w.key] for w in open_works}
        assert _spread(open_assignment, open_works, remaining) <= _bound(open_works, mode, by_item)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.integers(1, 5))
def test_late_students_join_without_moving_anything(scenario, late):
    works, assessors, mode, by_item, own = scenario
    first = distribute(
        works=works, assessors=assessors, mode=mode, by_item_items=by_item, own_groups=own
    )
    current = [Work(w.key, w.student, w.item, w.weight, w.item_order, first[w.key]) for w in works]
    newcomers = [
        Work(key=("late", s, i), student=("late", s), item=i, weight=2, item_order=i)
        for s in range(late)
        for i in range(3)
    ]
    added = place_newcomers(
        works=current,
        newcomers=newcomers,
        assessors=assessors,
        mode=mode,
        by_item_items=by_item,
        own_groups=own,
    )
    assert set(added) == {w.key for w in newcomers}
    assert not set(added) & set(first)
    assert set(added.values()) <= {a.key for a in assessors}


def test_avoid_keeps_teachers_away_from_their_own_students_when_the_balance_allows():
    works = [Work(key=s, student=s, item=0, weight=1) for s in range(4)]
    assessors = [Assessor("x", frozenset({0, 1})), Assessor("y", frozenset({2, 3}))]
    assignment = distribute(works=works, assessors=assessors, mode=BY_STUDENT, own_groups=AVOID)
    assert {assignment[0], assignment[1]} == {"y"}
    assert {assignment[2], assignment[3]} == {"x"}
    preferred = distribute(works=works, assessors=assessors, mode=BY_ITEM, own_groups=PREFER)
    assert {preferred[0], preferred[1]} == {"x"}


def test_by_item_gives_runs_of_the_same_item():
    works = [
        Work(key=(s, i), student=s, item=i, weight=1, item_order=i)
        for s in range(10)
        for i in range(4)
    ]
    assignment = distribute(works=works, assessors=[Assessor("a"), Assessor("b")], mode=BY_ITEM)
    items = {k: {w.item for w in works if assignment[w.key] == k} for k in ("a", "b")}
    assert items == {"a": {0, 1}, "b": {2, 3}}
