"""Where higher layers (results) subscribe to score changes, so grading never imports them.

- `scores_changed`: callbacks called as
  `callback(school_unit_id=..., subtest_ids=[...], person_ids=[...])` after every score write
  commits (machine scoring, person scoring, override, decided, key-correction rescoring, subtest
  entries); never for a write that rolled back. A callback runs on the saving request's time, so
  it only notes or queues work (results marks the students out of date and queues one job).
- A write inside Django's transaction calls `scores_changed_notify`, which defers the callbacks
  to the commit; the score route (grading.score_route), which commits on a connection of its
  own, calls `scores_committed_notify` once it has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction

scores_changed: list[Callable[..., None]] = []


def on_scores_changed(callback: Callable[..., None]) -> None:
    if callback not in scores_changed:
        scores_changed.append(callback)


def scores_changed_notify(
    *, school_unit_id: int, subtest_ids: Iterable[int], person_ids: Iterable[int]
) -> None:
    """Inside the transaction of a score write: the subscribers hear of it after commit."""
    subtests = sorted(set(subtest_ids))
    persons = sorted(set(person_ids))
    if not subtests or not persons:
        return
    transaction.on_commit(
        lambda: scores_committed_notify(
            school_unit_id=school_unit_id, subtest_ids=subtests, person_ids=persons
        )
    )


def scores_committed_notify(
    *, school_unit_id: int, subtest_ids: Iterable[int], person_ids: Iterable[int]
) -> None:
    """After a score write committed: tell the subscribers now."""
    subtests = sorted(set(subtest_ids))
    persons = sorted(set(person_ids))
    if not subtests or not persons:
        return
    for callback in scores_changed:
        callback(school_unit_id=school_unit_id, subtest_ids=subtests, person_ids=persons)
