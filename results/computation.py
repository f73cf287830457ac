"""Result arithmetic: pure functions, no database, no clock.

A student's result for one subtest is complete only when every item is assessed (or, for a part
done outside the platform or on paper, when its points are entered). Absent and exempt students
are shown as such and never counted in a statistic.

Swedish programme: the test grade comes from the grade boundaries (total points per grade) and,
where the definition states them, per-part requirements ("C requires at least 8 points in subtest
B"); a requirement of a grade also holds for every grade above it. A grade exists only when every
subtest is complete.

Norwegian programme: each subtest (and the test, where it has its own threshold) is below or above
its concern threshold. At or below the threshold is below; up to `band` points above it is "just
above", which also deserves attention.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

GRADES = ("E", "D", "C", "B", "A")  # low to high
FAIL = "F"


class Presence(StrEnum):
    """What happened to the student at the subtest."""

    SAT = "sat"  # submitted on the platform, or done outside it / on paper
    ABSENT = "absent"
    EXEMPT = "exempt"
    NOT_SAT = "not_sat"  # assigned but not (yet) sat


class Incomplete(StrEnum):
    """Why a result is not complete."""

    ITEMS_UNASSESSED = "items_unassessed"
    NOT_ENTERED = "not_entered"  # a part outside the platform whose points are not entered
    ABSENT = "absent"
    EXEMPT = "exempt"
    NOT_SAT = "not_sat"


class Band(StrEnum):
    BELOW = "below"
    JUST_ABOVE = "just_above"
    ABOVE = "above"


@dataclass(frozen=True)
class SubtestRule:
    code: str
    max_points: int
    on_platform: bool = True
    concern_threshold: int | None = None


@dataclass(frozen=True)
class TestRule:
    __test__ = False  # not a pytest class

    subtests: tuple[SubtestRule, ...]
    grade_boundaries: Mapping[str, int] = field(default_factory=dict)
    # grade -> subtest code -> minimum points in that subtest
    grade_requirements: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    concern_threshold: int | None = None
    band: int = 2  # "just above": threshold < points <= threshold + band

    @property
    def max_points(self) -> int:
        return sum(s.max_points for s in self.subtests)


@dataclass(frozen=True)
class SubtestInput:
    """One student's raw material for one subtest.

    `points` is the sum over the assessed items and `unassessed` how many items have no score yet
    (an attempt whose items have no score rows at all has `scored` False); `entered_points` the
    points entered for a part outside the platform or a paper replacement test (None: not
    entered). The sums come from the database in one GROUP BY, so nothing here walks items.
    """

    presence: Presence = Presence.NOT_SAT
    points: int = 0
    unassessed: int = 0
    scored: bool = False
    entered_points: int | None = None

    @classmethod
    def from_items(
        cls, presence: Presence, item_points: Sequence[int | None], entered: int | None = None
    ) -> SubtestInput:
        return cls(
            presence=presence,
            points=sum(p for p in item_points if p is not None),
            unassessed=sum(1 for p in item_points if p is None),
            scored=bool(item_points),
            entered_points=entered,
        )


@dataclass(frozen=True)
class SubtestOutcome:
    code: str
    points: int | None
    max_points: int
    complete: bool
    incomplete: Incomplete | None = None
    band: Band | None = None
    presence: Presence = Presence.SAT

    @property
    def counted(self) -> bool:
        """Whether this result belongs in a statistic (absent and exempt never do)."""
        return self.complete and self.presence == Presence.SAT


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest class

    points: int | None
    max_points: int
    complete: bool
    subtests: tuple[SubtestOutcome, ...]
    incomplete: Incomplete | None = None
    grade: str | None = None
    band: Band | None = None
    presence: Presence = Presence.SAT

    @property
    def counted(self) -> bool:
        return self.complete and self.presence == Presence.SAT

    @property
    def needs_attention(self) -> bool:
        """Below or just above a threshold, in the test or any of its subtests."""
        bands = [self.band, *(s.band for s in self.subtests)]
        return Band.BELOW in bands or Band.JUST_ABOVE in bands


def band_of(points: int, threshold: int | None, *, band: int) -> Band | None:
    """At or below the threshold is below; up to `band` points above it is just above."""
    if threshold is None:
        return None
    if points <= threshold:
        return Band.BELOW
    if points <= threshold + band:
        return Band.JUST_ABOVE
    return Band.ABOVE


def subtest_outcome(rule: SubtestRule, given: SubtestInput, *, band: int = 2) -> SubtestOutcome:
    def incomplete(reason: Incomplete, presence: Presence = Presence.SAT) -> SubtestOutcome:
        return SubtestOutcome(rule.code, None, rule.max_points, False, reason, None, presence)

    if given.presence == Presence.ABSENT and given.entered_points is None:
        return incomplete(Incomplete.ABSENT, Presence.ABSENT)
    if given.presence == Presence.EXEMPT:
        return incomplete(Incomplete.EXEMPT, Presence.EXEMPT)
    if given.entered_points is not None:
        # Oral part or paper replacement: the entered points are the result.
        points = min(given.entered_points, rule.max_points)
    elif not rule.on_platform:
        return incomplete(Incomplete.NOT_ENTERED)
    elif given.presence == Presence.NOT_SAT:
        return incomplete(Incomplete.NOT_SAT, Presence.NOT_SAT)
    elif not given.scored or given.unassessed:
        return incomplete(Incomplete.ITEMS_UNASSESSED)
    else:
        points = min(given.points, rule.max_points)
    return SubtestOutcome(
        rule.code,
        points,
        rule.max_points,
        True,
        None,
        band_of(points, rule.concern_threshold, band=band),
        Presence.SAT,
    )


def grade_of(
    total: int,
    part_points: Mapping[str, int],
    *,
    boundaries: Mapping[str, int],
    requirements: Mapping[str, Mapping[str, int]] | None = None,
) -> str:
    """The highest grade whose total boundary is reached and whose part requirements (its own and
    those of every grade below it) are met; F when not even E is."""
    requirements = requirements or {}
    best = FAIL
    needed: dict[str, int] = {}
    for grade in GRADES:
        for code, minimum in (requirements.get(grade) or {}).items():
            needed[code] = max(needed.get(code, 0), minimum)
        if grade not in boundaries:
            continue
        if total < boundaries[grade]:
            break
        if any(part_points.get(code, 0) < minimum for code, minimum in needed.items()):
            break
        best = grade
    return best


def _presence_of(outcomes: Sequence[SubtestOutcome]) -> Presence:
    """Absent or exempt from the whole test when no subtest was sat and each was missed so."""
    presences = {o.presence for o in outcomes}
    if Presence.SAT in presences or not presences:
        return Presence.SAT
    for presence in (Presence.EXEMPT, Presence.ABSENT):
        if presences == {presence}:
            return presence
    return Presence.SAT if Presence.NOT_SAT not in presences else Presence.NOT_SAT


_REASON_ORDER = (
    Incomplete.EXEMPT,
    Incomplete.ABSENT,
    Incomplete.NOT_SAT,
    Incomplete.NOT_ENTERED,
    Incomplete.ITEMS_UNASSESSED,
)


def test_outcome(rule: TestRule, given: Mapping[str, SubtestInput]) -> TestOutcome:
    """The whole test for one student; missing inputs count as not yet sat."""
    outcomes = tuple(
        subtest_outcome(s, given.get(s.code, SubtestInput()), band=rule.band) for s in rule.subtests
    )
    presence = _presence_of(outcomes)
    if not all(o.complete for o in outcomes):
        reasons = {o.incomplete for o in outcomes if o.incomplete}
        reason = next(r for r in _REASON_ORDER if r in reasons)
        return TestOutcome(None, rule.max_points, False, outcomes, reason, None, None, presence)
    total = sum(o.points or 0 for o in outcomes)
    grade = None
    if rule.grade_boundaries:
        grade = grade_of(
            total,
            {o.code: o.points or 0 for o in outcomes},
            boundaries=rule.grade_boundaries,
            requirements=rule.grade_requirements,
        )
    return TestOutcome(
        total,
        rule.max_points,
        True,
        outcomes,
        None,
        grade,
        band_of(total, rule.concern_threshold, band=rule.band),
        presence,
    )


test_outcome.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


# --- statistics (absent and exempt never count) -------------------------------------------------


@dataclass(frozen=True)
class Summary:
    students: int  # counted students (complete, sat)
    absent: int
    exempt: int
    incomplete: int
    below: int
    just_above: int
    grades: Mapping[str, int]


def summarise(outcomes: Iterable[TestOutcome]) -> Summary:
    counted = absent = exempt = incomplete = below = just_above = 0
    grades: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.presence == Presence.ABSENT:
            absent += 1
            continue
        if outcome.presence == Presence.EXEMPT:
            exempt += 1
            continue
        if not outcome.complete:
            incomplete += 1
            continue
        counted += 1
        bands = [outcome.band, *(s.band for s in outcome.subtests)]
        if Band.BELOW in bands:
            below += 1
        elif Band.JUST_ABOVE in bands:
            just_above += 1
        if outcome.grade:
            grades[outcome.grade] += 1
    return Summary(counted, absent, exempt, incomplete, below, just_above, dict(grades))


def distribution(totals: Iterable[int], *, max_points: int) -> list[int]:
    """How many students have each total, 0..max_points."""
    counts = [0] * (max_points + 1)
    for total in totals:
        counts[max(0, min(total, max_points))] += 1
    return counts


def item_shares(
    rows: Iterable[Sequence[int | None]], max_points: Sequence[int]
) -> list[float | None]:
    """Per item, the share of the available points gained (None when no student is counted)."""
    gained = [0] * len(max_points)
    students = 0
    for row in rows:
        students += 1
        for index, points in enumerate(row):
            gained[index] += points or 0
    if not students:
        return [None] * len(max_points)
    return [g / (m * students) if m else None for g, m in zip(gained, max_points, strict=True)]
