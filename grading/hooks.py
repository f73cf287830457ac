"""Where higher layers (results) subscribe to score changes, so grading never imports them.

- `scores_changed`: callbacks called as
  `callback(school_unit_id=..., subtest_ids=[...], person_ids=[...])` inside the transaction of
  every score write (machine scoring, person scoring, override, decided, key-correction rescoring,
  subtest entries). A subscriber that does heavy work defers it with transaction.on_commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

scores_changed: list[Callable[..., None]] = []


def on_scores_changed(callback: Callable[..., None]) -> None:
    if callback not in scores_changed:
        scores_changed.append(callback)


def scores_changed_notify(
    *, school_unit_id: int, subtest_ids: Iterable[int], person_ids: Iterable[int]
) -> None:
    subtests = sorted(set(subtest_ids))
    persons = sorted(set(person_ids))
    if not subtests or not persons:
        return
    for callback in scores_changed:
        callback(school_unit_id=school_unit_id, subtest_ids=subtests, person_ids=persons)
