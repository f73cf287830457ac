"""The pure result core: boundaries from the Norwegian and Swedish rules, and generated input."""

from hypothesis import given
from hypothesis import strategies as st

from results.computation import (
    Band,
    Incomplete,
    Presence,
    SubtestInput,
    SubtestRule,
    TestRule,
    band_of,
    distribution,
    grade_of,
    item_shares,
    subtest_outcome,
    summarise,
    test_outcome,
)

SAT = Presence.SAT


def _sat(*points):
    return SubtestInput.from_items(SAT, points)


def test_exactly_at_the_threshold_is_below():
    rule = SubtestRule("1", max_points=20, concern_threshold=15)
    assert subtest_outcome(rule, _sat(*[1] * 15 + [0] * 5)).band == Band.BELOW


def test_one_point_above_the_threshold_is_just_above_with_the_band():
    rule = SubtestRule("1", max_points=20, concern_threshold=15)
    sixteen = _sat(*[1] * 16 + [0] * 4)
    assert subtest_outcome(rule, sixteen, band=2).band == Band.JUST_ABOVE
    assert subtest_outcome(rule, sixteen, band=0).band == Band.ABOVE


def test_above_the_band_is_above():
    rule = SubtestRule("1", max_points=20, concern_threshold=15)
    assert subtest_outcome(rule, _sat(*[1] * 17 + [0] * 3), band=2).band == Band.JUST_ABOVE
    assert subtest_outcome(rule, _sat(*[1] * 18 + [0] * 2), band=2).band == Band.ABOVE


def test_reading_test_with_six_subtests_judges_each_by_its_own_threshold():
    # Lesing 1. trinn: six subtests, six limits.
    thresholds = {"1": 12, "2": 9, "3": 6, "4": 7, "5": 10, "6": 5}
    rule = TestRule(
        subtests=tuple(
            SubtestRule(c, max_points=20, concern_threshold=t) for c, t in thresholds.items()
        ),
        band=2,
    )
    # The same 10 points everywhere: below where the limit is 10 or more, above elsewhere.
    outcome = test_outcome(
        rule, {c: SubtestInput.from_items(SAT, (10,) + (0,) * 19) for c in thresholds}
    )
    bands = {s.code: s.band for s in outcome.subtests}
    assert bands == {
        "1": Band.BELOW,
        "2": Band.JUST_ABOVE,
        "3": Band.ABOVE,
        "4": Band.ABOVE,
        "5": Band.BELOW,
        "6": Band.ABOVE,
    }
    assert outcome.complete and outcome.points == 60 and outcome.grade is None
    assert outcome.needs_attention


def test_per_part_requirement_lowers_the_grade():
    rule = TestRule(
        subtests=(
            SubtestRule("A", 30),
            SubtestRule("B", 20),
            SubtestRule("C", 10, on_platform=False),
        ),
        grade_boundaries={"E": 15, "D": 22, "C": 30, "B": 38, "A": 45},
        grade_requirements={"C": {"B": 8}},
    )
    inputs = {"A": _sat(25), "B": _sat(7), "C": SubtestInput(SAT, entered_points=8)}
    # 40 points reach B, but 7 points in subtest B fall short of C's 8: the grade is D.
    outcome = test_outcome(rule, inputs)
    assert outcome.points == 40 and outcome.grade == "D"
    inputs["B"] = _sat(8)
    assert test_outcome(rule, inputs).grade == "B"


def test_grade_needs_every_subtest_complete_including_the_oral_part():
    rule = TestRule(
        subtests=(SubtestRule("A", 30), SubtestRule("M", 10, on_platform=False)),
        grade_boundaries={"E": 10, "C": 20, "A": 30},
    )
    outcome = test_outcome(rule, {"A": _sat(30), "M": SubtestInput(SAT)})
    assert not outcome.complete and outcome.grade is None
    assert outcome.incomplete == Incomplete.NOT_ENTERED


def test_unassessed_item_leaves_the_subtest_incomplete():
    rule = SubtestRule("1", max_points=3)
    outcome = subtest_outcome(rule, _sat(1, None, 1))
    assert not outcome.complete and outcome.incomplete == Incomplete.ITEMS_UNASSESSED
    assert outcome.points is None


def test_absent_exempt_and_not_sat_say_why():
    rule = SubtestRule("1", max_points=3, concern_threshold=1)
    assert subtest_outcome(rule, SubtestInput(Presence.ABSENT)).incomplete == Incomplete.ABSENT
    assert subtest_outcome(rule, SubtestInput(Presence.EXEMPT)).incomplete == Incomplete.EXEMPT
    assert subtest_outcome(rule, SubtestInput()).incomplete == Incomplete.NOT_SAT


def test_absent_and_exempt_are_left_out_of_every_statistic():
    rule = TestRule(subtests=(SubtestRule("1", 10, concern_threshold=5),))
    outcomes = [
        test_outcome(rule, {"1": _sat(2)}),
        test_outcome(rule, {"1": SubtestInput(Presence.ABSENT)}),
        test_outcome(rule, {"1": SubtestInput(Presence.EXEMPT)}),
        test_outcome(rule, {"1": _sat(9)}),
    ]
    summary = summarise(outcomes)
    assert (summary.students, summary.absent, summary.exempt, summary.below) == (2, 1, 1, 1)


@given(
    threshold=st.integers(0, 40),
    points=st.integers(0, 60),
    band=st.integers(0, 5),
)
def test_band_is_monotone_and_exact_at_its_edges(threshold, points, band):
    result = band_of(points, threshold, band=band)
    if points <= threshold:
        assert result == Band.BELOW
    elif points <= threshold + band:
        assert result == Band.JUST_ABOVE
    else:
        assert result == Band.ABOVE
    # One more point never moves a student to a worse band.
    order = [Band.BELOW, Band.JUST_ABOVE, Band.ABOVE]
    assert order.index(band_of(points + 1, threshold, band=band)) >= order.index(result)


_boundaries = st.lists(st.integers(1, 60), min_size=1, max_size=5, unique=True).map(
    lambda xs: dict(zip(("E", "D", "C", "B", "A"), sorted(xs), strict=False))
)


@given(
    boundaries=_boundaries,
    total=st.integers(0, 70),
    part=st.integers(0, 20),
    minimum=st.integers(0, 20),
    grade=st.sampled_from(["E", "D", "C", "B", "A"]),
)
def test_a_requirement_never_raises_a_grade_and_only_lowers_from_its_grade(
    boundaries, total, part, minimum, grade
):
    order = ["F", "E", "D", "C", "B", "A"]
    free = grade_of(total, {"B": part}, boundaries=boundaries)
    held = grade_of(total, {"B": part}, boundaries=boundaries, requirements={grade: {"B": minimum}})
    assert order.index(held) <= order.index(free)
    if part >= minimum:
        assert held == free
    else:
        assert order.index(held) < order.index(grade)
    # Without requirements: the highest grade whose boundary the total reaches.
    reached = [g for g, p in boundaries.items() if total >= p]
    assert free == (max(reached, key=order.index) if reached else "F")


@given(
    items=st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=1, max_size=12),
    presence=st.sampled_from(list(Presence)),
)
def test_a_subtest_is_complete_exactly_when_sat_and_every_item_assessed(items, presence):
    rule = SubtestRule("1", max_points=3 * len(items), concern_threshold=len(items))
    outcome = subtest_outcome(rule, SubtestInput.from_items(presence, items))
    assert outcome.complete == (presence == SAT and None not in items)
    if outcome.complete:
        assert outcome.points == sum(items) and outcome.counted
    else:
        assert outcome.points is None and outcome.band is None and not outcome.counted


@given(st.lists(st.integers(0, 30), max_size=50))
def test_distribution_counts_every_total_once(totals):
    counts = distribution(totals, max_points=30)
    assert sum(counts) == len(totals)
    for total in set(totals):
        assert counts[total] == totals.count(total)


def test_item_shares_are_points_gained_over_points_available():
    assert item_shares([(1, 0), (1, 2)], [1, 2]) == [1.0, 0.5]
    assert item_shares([], [1, 2]) == [None, None]
