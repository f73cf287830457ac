"""The distribution of person-graded responses to assessors: a pure functional core.

No ORM and no clock: the services turn rows into `Work` and `Assessor` values and store what
these functions return. `tests/grading/test_distribution_properties.py` drives them with
hypothesis.

A *bundle* is what goes to one assessor as a whole: all of a student's responses (by student),
or one response (by item: the responses of an item are dealt out item after item, so an
assessor gets long runs of the same item). Mixed mode makes single-response bundles of the
by-item items and student bundles of the rest. A bundle's weight is the sum of the max points
of its items (work, not response count).

Guarantees (the properties the tests prove):
- every unassessed work is assigned to exactly one of the given assessors; an assessed work
  always stays with the assessor who has it;
- after `distribute` and `redistribute`, the loads of the unassessed work differ between any
  two assessors by at most the weight of the heaviest bundle: one item's points by item, one
  student's work by student;
- own groups (avoid/prefer) are a preference, never at the cost of that balance.

The balance comes from one rule: a bundle only goes to an assessor whose load plus its weight
stays within `lightest load + heaviest bundle`, and a final pass moves bundles from the heaviest
to the lightest assessor until the spread is within the bound (every move lowers the sum of
squared loads, so it ends).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

BY_STUDENT = "by_student"
BY_ITEM = "by_item"
MIXED = "mixed"
ANY, AVOID, PREFER = "any", "avoid", "prefer"


@dataclass(frozen=True)
class Work:
    """One person-graded response (one Score row)."""

    key: Hashable
    student: Hashable
    item: Hashable
    weight: int  # the item's max points
    item_order: int = 0
    assessor: Hashable | None = None  # who has it now
    assessed: bool = False


@dataclass(frozen=True)
class Assessor:
    key: Hashable
    own_students: frozenset = field(default_factory=frozenset)


@dataclass
class Bundle:
    works: list[Work]
    by_item: bool
    student: Hashable
    item: Hashable | None
    order: tuple

    @property
    def weight(self) -> int:
        return sum(w.weight for w in self.works)


Assignment = dict[Hashable, Hashable]  # work key -> assessor key


def _by_item(work: Work, mode: str, by_item_items: frozenset) -> bool:
    return mode == BY_ITEM or (mode == MIXED and work.item in by_item_items)


def bundles_of(works: Iterable[Work], *, mode: str, by_item_items: Iterable = ()) -> list[Bundle]:
    """Group works into bundles; works that currently sit with different assessors never share
    a bundle (so a redistribution can leave each where it is)."""
    chosen = frozenset(by_item_items)
    singles: list[Bundle] = []
    grouped: dict[tuple, list[Work]] = defaultdict(list)
    for work in works:
        if _by_item(work, mode, chosen):
            singles.append(
                Bundle(
                    [work],
                    True,
                    work.student,
                    work.item,
                    (work.item_order, str(work.item), str(work.student)),
                )
            )
        else:
            grouped[(work.student, work.assessor)].append(work)
    students = [
        Bundle(ws, False, student, None, (0, "", str(student)))
        for (student, _assessor), ws in grouped.items()
    ]
    singles.sort(key=lambda b: b.order)
    students.sort(key=lambda b: (-b.weight, b.order))
    return singles + students


def _fits(bundle: Bundle, assessor: Assessor, own_groups: str) -> bool:
    """Whether giving `bundle` to `assessor` suits the own-groups option."""
    if own_groups == ANY:
        return True
    own = bundle.student in assessor.own_students
    return not own if own_groups == AVOID else own


class _Loads:
    def __init__(self, assessors: Sequence[Assessor]):
        self.assessors = list(assessors)
        self.load: dict[Hashable, int] = {a.key: 0 for a in assessors}
        self.held: dict[Hashable, list[Bundle]] = {a.key: [] for a in assessors}

    def add(self, bundle: Bundle, key: Hashable) -> None:
        self.load[key] += bundle.weight
        self.held[key].append(bundle)

    def remove(self, bundle: Bundle, key: Hashable) -> None:
        self.load[key] -= bundle.weight
        self.held[key].remove(bundle)

    def lightest(self) -> int:
        return min(self.load.values())

    def choose(self, bundle: Bundle, *, bound: int, own_groups: str, sticky=None) -> Hashable:
        """The assessor for `bundle`: within the balance rule, the one already holding it
        (`sticky`), else one that suits own groups, else the lightest."""
        limit = self.lightest() + bound
        allowed = [a for a in self.assessors if self.load[a.key] + bundle.weight <= limit]
        if sticky is not None and any(a.key == sticky for a in allowed):
            return sticky
        suited = [a for a in allowed if _fits(bundle, a, own_groups)]
        pool = suited or allowed
        return min(pool, key=lambda a: (self.load[a.key], str(a.key))).key

    def even_out(self, *, bound: int, own_groups: str) -> None:
        """Move bundles from the heaviest to the lightest assessor until the spread is ≤ bound."""
        by_key = {a.key: a for a in self.assessors}
        while True:
            heavy = max(self.load, key=lambda k: (self.load[k], str(k)))
            light = min(self.load, key=lambda k: (self.load[k], str(k)))
            spread = self.load[heavy] - self.load[light]
            if spread <= bound:
                return
            movable = [b for b in self.held[heavy] if 0 < b.weight < spread]
            movable.sort(
                key=lambda b: (not _fits(b, by_key[light], own_groups), -b.weight, b.order)
            )
            bundle = movable[0]
            self.remove(bundle, heavy)
            self.add(bundle, light)


def _swap_for_own_groups(loads: _Loads, own_groups: str) -> None:
    """Swap bundles of equal weight between assessors where the one that does not suit its
    assessor suits the other and the partner suits the first; the loads do not change."""
    if own_groups == ANY:
        return
    by_key = {a.key: a for a in loads.assessors}
    buckets: dict[tuple, list[Bundle]] = defaultdict(list)
    for key, held in loads.held.items():
        for bundle in held:
            buckets[(key, bundle.weight)].append(bundle)
    for key in list(loads.held):
        for bundle in list(loads.held[key]):
            if _fits(bundle, by_key[key], own_groups):
                continue
            for other in loads.assessors:
                if other.key == key or not _fits(bundle, other, own_groups):
                    continue
                bucket = buckets[(other.key, bundle.weight)]
                partner = next((b for b in bucket if _fits(b, by_key[key], own_groups)), None)
                if partner is None:
                    continue
                loads.remove(bundle, key)
                loads.remove(partner, other.key)
                loads.add(bundle, other.key)
                loads.add(partner, key)
                buckets[(key, bundle.weight)].remove(bundle)
                bucket.remove(partner)
                buckets[(other.key, bundle.weight)].append(bundle)
                buckets[(key, bundle.weight)].append(partner)
                break


def _result(loads: _Loads, fixed: Iterable[Work]) -> Assignment:
    # An assessed work without an assessor (scored before any distribution) needs none.
    result: Assignment = {w.key: w.assessor for w in fixed if w.assessor is not None}
    for key, bundles in loads.held.items():
        for bundle in bundles:
            for work in bundle.works:
                result[work.key] = key
    return result


def _check(assessors: Sequence[Assessor]) -> None:
    if not assessors:
        raise ValueError("at least one assessor is needed")
    if len({a.key for a in assessors}) != len(assessors):
        raise ValueError("assessors must be distinct")


def distribute(
    *,
    works: Sequence[Work],
    assessors: Sequence[Assessor],
    mode: str,
    by_item_items: Iterable = (),
    own_groups: str = ANY,
) -> Assignment:
    """A fresh distribution of every unassessed work among `assessors`."""
    _check(assessors)
    fixed = [w for w in works if w.assessed]
    bundles = bundles_of(
        [Work(w.key, w.student, w.item, w.weight, w.item_order) for w in works if not w.assessed],
        mode=mode,
        by_item_items=by_item_items,
    )
    loads = _Loads(assessors)
    if not bundles:
        return _result(loads, fixed)
    bound = max(b.weight for b in bundles)
    singles = [b for b in bundles if b.by_item]
    # Deal the by-item responses in runs: each assessor takes the next responses (item after
    # item) until its share of them is reached, so an assessor scores few distinct items.
    remaining = sum(b.weight for b in singles)
    index = 0
    for position, assessor in enumerate(assessors):
        share = remaining / (len(assessors) - position)
        taken = 0
        while index < len(singles) and (
            position == len(assessors) - 1 or taken + singles[index].weight / 2 <= share
        ):
            loads.add(singles[index], assessor.key)
            taken += singles[index].weight
            index += 1
        remaining -= taken
    for bundle in (b for b in bundles if not b.by_item):
        loads.add(bundle, loads.choose(bundle, bound=bound, own_groups=own_groups))
    loads.even_out(bound=bound, own_groups=own_groups)
    _swap_for_own_groups(loads, own_groups)
    return _result(loads, fixed)


def redistribute(
    *,
    works: Sequence[Work],
    assessors: Sequence[Assessor],
    mode: str,
    by_item_items: Iterable = (),
    own_groups: str = ANY,
) -> Assignment:
    """Share out what is still unassessed among `assessors` (someone fell ill, or joined).

    Assessed works never move. Unassessed work stays with its assessor when they are still in
    the list, and moves only as far as needed to even out the loads of the unassessed work.
    """
    _check(assessors)
    fixed = [w for w in works if w.assessed]
    open_works = [w for w in works if not w.assessed]
    bundles = bundles_of(open_works, mode=mode, by_item_items=by_item_items)
    loads = _Loads(assessors)
    if not bundles:
        return _result(loads, fixed)
    bound = max(b.weight for b in bundles)
    present = set(loads.load)
    orphans = []
    for bundle in bundles:
        holder = bundle.works[0].assessor
        if holder in present:
            loads.add(bundle, holder)
        else:
            orphans.append(bundle)
    orphans.sort(key=lambda b: (-b.weight, b.order))
    for bundle in orphans:
        loads.add(bundle, loads.choose(bundle, bound=bound, own_groups=own_groups))
    loads.even_out(bound=bound, own_groups=own_groups)
    return _result(loads, fixed)


def place_newcomers(
    *,
    works: Sequence[Work],
    newcomers: Sequence[Work],
    assessors: Sequence[Assessor],
    mode: str,
    by_item_items: Iterable = (),
    own_groups: str = ANY,
) -> Assignment:
    """Assign the works of students who sat late; nothing already assigned moves.

    Each new bundle goes to the assessor with the least total work (assessed or not), an
    assessor already holding that item first in by-item mode, respecting own groups where it can.
    """
    _check(assessors)
    loads = _Loads(assessors)
    items_of: dict[Hashable, set] = defaultdict(set)
    for work in works:
        if work.assessor in loads.load:
            loads.load[work.assessor] += work.weight
            items_of[work.assessor].add(work.item)
    result: Assignment = {}
    for bundle in bundles_of(newcomers, mode=mode, by_item_items=by_item_items):
        lightest = loads.lightest()
        bound = bundle.weight

        def rank(a: Assessor, bundle=bundle, lightest=lightest, bound=bound) -> tuple:
            close = loads.load[a.key] + bundle.weight <= lightest + bound
            knows = bundle.by_item and bundle.item in items_of[a.key]
            return (not close, not _fits(bundle, a, own_groups), not knows, loads.load[a.key])

        key = min(assessors, key=lambda a: (rank(a), str(a.key))).key
        loads.load[key] += bundle.weight
        items_of[key].add(bundle.item)
        for work in bundle.works:
            result[work.key] = key
    return result


def loads_of(assignment: Assignment, works: Iterable[Work]) -> dict[Hashable, int]:
    """Total weight per assessor of `assignment`."""
    totals: dict[Hashable, int] = defaultdict(int)
    for work in works:
        if work.key in assignment:
            totals[assignment[work.key]] += work.weight
    return dict(totals)
