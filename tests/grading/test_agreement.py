"""Agreement figures of second marking: known values and properties for any pairs of scores."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grading.agreement import agreement_of, weighted_kappa


def test_two_categories_give_cohens_textbook_kappa():
    # The classic 2×2 table (yes/yes 20, yes/no 5, no/yes 10, no/no 15): kappa = 0.4. With two
    # categories every disagreement is one step, so both weightings give the unweighted kappa.
    pairs = [(1, 1)] * 20 + [(1, 0)] * 5 + [(0, 1)] * 10 + [(0, 0)] * 15
    assert weighted_kappa(pairs, max_points=1) == pytest.approx(0.4)
    assert weighted_kappa(pairs, max_points=1, weights="linear") == pytest.approx(0.4)


def test_three_categories_by_hand():
    # pairs (0,0) (1,1) (2,2) (0,1) (2,1), n = 5; rows 0:2 1:1 2:2, columns 0:1 1:3 2:1.
    # Quadratic weights (d/2)²: observed disagreement = (1/4 + 1/4) / 5 = 1/10;
    # expected = Σ rows_i·cols_j·w_ij / 25 = (2·3·¼ + 2·1·1 + 1·1·¼ + 1·1·¼ + 2·1·1 + 2·3·¼) / 25
    #          = 7.5 / 25 = 3/10, so kappa = 1 - (1/10) / (3/10) = 2/3.
    # Linear weights d/2: observed = (½ + ½) / 5 = 1/5; expected = (3 + 2 + ½ + ½ + 2 + 3) / 25
    #          = 11/25, so kappa = 1 - (1/5) / (11/25) = 6/11.
    pairs = [(0, 0), (1, 1), (2, 2), (0, 1), (2, 1)]
    assert weighted_kappa(pairs, max_points=2) == pytest.approx(2 / 3)
    assert weighted_kappa(pairs, max_points=2, weights="linear") == pytest.approx(6 / 11)


def test_exact_agreement_and_mean_absolute_difference():
    figures = agreement_of([(3, 3), (2, 3), (0, 3), (1, 1)], max_points=3)
    assert figures.pairs == 4
    assert figures.exact == pytest.approx(0.5)
    assert figures.mean_absolute_difference == pytest.approx(1.0)


def test_kappa_is_undefined_without_variation_or_pairs():
    assert weighted_kappa([(2, 2), (2, 2)], max_points=3) is None
    assert weighted_kappa([], max_points=3) is None
    assert agreement_of([], max_points=3).exact is None


def test_points_outside_the_scale_are_refused():
    with pytest.raises(ValueError):
        weighted_kappa([(0, 4)], max_points=3)


@st.composite
def scored_pairs(draw):
    max_points = draw(st.integers(min_value=1, max_value=6))
    points = st.integers(min_value=0, max_value=max_points)
    pairs = draw(st.lists(st.tuples(points, points), min_size=2, max_size=40))
    return max_points, pairs


def _moments_kappa(pairs):
    """Quadratic weighted kappa in closed form: 2·cov / (var x + var y + (mean x - mean y)²)."""
    n = len(pairs)
    mx = sum(a for a, _ in pairs) / n
    my = sum(b for _, b in pairs) / n
    vx = sum((a - mx) ** 2 for a, _ in pairs) / n
    vy = sum((b - my) ** 2 for _, b in pairs) / n
    cov = sum((a - mx) * (b - my) for a, b in pairs) / n
    denominator = vx + vy + (mx - my) ** 2
    return None if denominator == 0 else 2 * cov / denominator


@given(scored_pairs())
def test_quadratic_kappa_equals_its_closed_form(case):
    max_points, pairs = case
    expected = _moments_kappa(pairs)
    got = weighted_kappa(pairs, max_points=max_points)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-9)


@given(scored_pairs(), st.sampled_from(["quadratic", "linear"]))
def test_kappa_is_symmetric_bounded_and_one_for_identical_scores(case, weights):
    max_points, pairs = case
    kappa = weighted_kappa(pairs, max_points=max_points, weights=weights)
    swapped = weighted_kappa([(b, a) for a, b in pairs], max_points=max_points, weights=weights)
    assert kappa == swapped or kappa == pytest.approx(swapped)
    if kappa is not None:
        assert -1.0 - 1e-9 <= kappa <= 1.0 + 1e-9
    same = [(a, a) for a, _ in pairs]
    identical = weighted_kappa(same, max_points=max_points, weights=weights)
    assert identical is None or identical == pytest.approx(1.0)
    figures = agreement_of(pairs, max_points=max_points, weights=weights)
    assert 0 <= figures.exact <= 1
    assert figures.mean_absolute_difference <= max_points
