"""The exam-day rules as pure functions, over generated input: the proctor room's order and the
minutes given back after an outage."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from delivery.models import AttemptStatus
from delivery.outages import minutes_to_give_back
from delivery.proctor_views import LOST, row_rank

NEEDS_PROCTOR = {LOST, AttemptStatus.PAUSED, AttemptStatus.WAITING, AttemptStatus.NOT_STARTED}
STATUSES = sorted({LOST, *AttemptStatus.values})


def _group(status: str) -> int:
    if status in NEEDS_PROCTOR:
        return 0
    return 2 if status in AttemptStatus.FINISHED else 1


@given(st.lists(st.tuples(st.sampled_from(STATUSES), st.booleans()), min_size=1, max_size=40))
def test_the_room_puts_who_needs_the_proctor_first_then_working_then_done(rows):
    ordered = sorted(rows, key=lambda r: row_rank(status=r[0], released=r[1]))
    groups = [_group(status) for status, _released in ordered]
    assert groups == sorted(groups)


@given(st.sampled_from([LOST, AttemptStatus.PAUSED, AttemptStatus.WAITING]), st.booleans())
def test_a_released_student_not_logged_in_comes_after_lost_and_paused_and_before_waiting(
    status, released
):
    middle = row_rank(status=AttemptStatus.NOT_STARTED, released=True)
    unreleased = row_rank(status=AttemptStatus.NOT_STARTED, released=False)
    rank = row_rank(status=status, released=released)
    assert (rank < middle) == (status != AttemptStatus.WAITING)
    assert middle < unreleased


@given(st.integers(min_value=1, max_value=24 * 3600))
def test_the_time_given_back_covers_the_outage_by_less_than_a_minute_more(seconds):
    minutes = minutes_to_give_back(seconds)
    assert minutes * 60 >= seconds
    assert (minutes - 1) * 60 < seconds
