"""Counts and refusal texts always agree: for any mix of students (working, paused, connection
lost, waiting, submitted, absent...), the refusal to end a sitting counts and lists exactly the
open tests the proctor room shows, with the room's own labels."""

from __future__ import annotations

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery import attempts, closing, proctor_policy, proctor_views
from delivery.models import Attempt, AttemptStatus
from tests.delivery.attempt_helpers import local_at, make_sitting, proctor
from tests.delivery.presence_helpers import presence_of, store  # noqa: F401
from tests.factories import student

KINDS = ["not_started", "waiting", "working", "paused", "submitted", "absent"]


@pytest.fixture
def ten_o_clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


def _put(attempt: Attempt, kind: str) -> None:
    started = kind in ("working", "paused", "submitted")
    Attempt.objects.filter(pk=attempt.pk).update(
        status=kind,
        started_at=local_at(9, 30) if started else None,
        released_at=local_at(9, 30) if started else None,
        deadline=local_at(10, 15) if started else None,
        paused_at=local_at(9, 50) if kind == "paused" else None,
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(students=st.lists(st.tuples(st.sampled_from(KINDS), st.booleans()), min_size=1, max_size=7))
def test_the_refusal_counts_the_open_tests_as_the_room_does(
    world,
    ten_o_clock,
    store,  # noqa: F811
    students,
):
    sitting = make_sitting(world, students=[student(world.unit) for _ in students])
    attempts.attempts_ensure(sitting=sitting)
    made = list(Attempt.objects.filter(sitting=sitting).order_by("pk"))
    for attempt, (kind, lost) in zip(made, students, strict=True):
        _put(attempt, kind)
        if lost:
            store.connect(presence_of(attempt), conn="c", now=local_at(9, 55).timestamp())
            store.close(presence_of(attempt), conn="c", now=local_at(9, 56).timestamp())

    rows, _groups = proctor_views._room_rows(sitting, can_unlock=False)
    shown_open = [r for r in rows if r["attempt_status"] in AttemptStatus.OPEN]
    labels = proctor_policy.room_status_labels()

    if not shown_open:
        assert closing.sitting_end(actor=proctor(world), sitting=sitting).status == "ended"
        return
    with pytest.raises(closing.OpenAttemptsRefused) as refused:
        closing.sitting_end(actor=proctor(world), sitting=sitting)
    listed = refused.value.open
    # the same tests, each with the status and label its row shows
    assert sorted((r["attempt"], r["status"]) for r in listed) == sorted(
        (r["attempt"], r["status"]) for r in shown_open
    )
    assert all(r["label"] == labels[r["status"]] for r in listed)
    # and the sentence counts them per status exactly as the rows do
    counts = {s: sum(r["status"] == s for r in shown_open) for s in ("working", "paused", "lost")}
    text = str(refused.value)
    assert text.startswith(f"{len(shown_open)} student")
    for status, count in counts.items():
        part = f"{labels[status]}: {count}"
        assert (part in text) == (count > 0), (part, text)
    assert Attempt.objects.filter(sitting=sitting, status__in=AttemptStatus.OPEN).count() == (
        len(shown_open)
    )
