"""Agreement between two assessors who scored the same responses (second marking).

Pure functions: no ORM, no clock. Scores are whole points from 0 to the item's maximum, an ordinal
scale, so Cohen's kappa is weighted: a 2-against-3 disagreement costs less than 0-against-3.
The platform uses quadratic weights (w = (i - j)² / (k - 1)²), the usual choice for points
scales; linear weights are available for comparison.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

Weights = Literal["quadratic", "linear"]


@dataclass(frozen=True)
class Agreement:
    """Agreement figures for one set of pairs (one item, or one assessor pair on one item)."""

    pairs: int
    exact: float | None  # share of pairs with the same points, 0..1
    mean_absolute_difference: float | None
    kappa: float | None  # None when undefined (fewer than two pairs, or no variation at all)


def _weight(i: int, j: int, span: int, weights: Weights) -> Fraction:
    if span == 0:
        return Fraction(0)
    distance = abs(i - j)
    if weights == "linear":
        return Fraction(distance, span)
    return Fraction(distance * distance, span * span)


def weighted_kappa(
    pairs: Sequence[tuple[int, int]], *, max_points: int, weights: Weights = "quadratic"
) -> float | None:
    """Cohen's weighted kappa of `pairs` (first, second) on the categories 0..max_points.

    kappa = 1 - Σ w·observed / Σ w·expected, with expected from the two assessors' marginals.
    Undefined (None) when there are no pairs or the expected disagreement is zero (both
    assessors gave everything the same single score).
    """
    if not pairs:
        return None
    categories = range(max_points + 1)
    for first, second in pairs:
        if first not in categories or second not in categories:
            raise ValueError(f"points outside 0..{max_points}: {(first, second)}")
    n = len(pairs)
    observed: dict[tuple[int, int], int] = {}
    rows = [0] * (max_points + 1)
    cols = [0] * (max_points + 1)
    for first, second in pairs:
        observed[(first, second)] = observed.get((first, second), 0) + 1
        rows[first] += 1
        cols[second] += 1
    span = max_points
    disagreement_observed = (
        sum(
            (_weight(i, j, span, weights) * count for (i, j), count in observed.items()),
            Fraction(0),
        )
        / n
    )
    disagreement_expected = sum(
        (
            _weight(i, j, span, weights) * rows[i] * cols[j]
            for i in categories
            if rows[i]
            for j in categories
            if cols[j]
        ),
        Fraction(0),
    ) / (n * n)
    if disagreement_expected == 0:
        return None
    return float(1 - disagreement_observed / disagreement_expected)


def agreement_of(
    pairs: Iterable[tuple[int, int]], *, max_points: int, weights: Weights = "quadratic"
) -> Agreement:
    """Exact agreement, mean absolute difference and weighted kappa of `pairs`."""
    pairs = list(pairs)
    if not pairs:
        return Agreement(pairs=0, exact=None, mean_absolute_difference=None, kappa=None)
    n = len(pairs)
    return Agreement(
        pairs=n,
        exact=sum(1 for a, b in pairs if a == b) / n,
        mean_absolute_difference=sum(abs(a - b) for a, b in pairs) / n,
        kappa=weighted_kappa(pairs, max_points=max_points, weights=weights) if n > 1 else None,
    )
