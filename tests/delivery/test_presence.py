"""Presence: silent drops, restores with the outage's length, debounce and room aggregation."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from delivery import consumers, notices
from delivery.models import Notice, NoticeKind
from delivery.sweeper import sweep_once
from exams.models import SittingStudent
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt
from tests.delivery.presence_helpers import presence_of, store  # noqa: F401
from tests.factories import student

T0 = local_at(10).timestamp()


def at(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(T0 + seconds, tz=datetime.UTC)


@pytest.fixture
def ten_o_clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def working(world, ten_o_clock, store):  # noqa: F811
    sitting = make_sitting(world)
    attempt, _token = started_attempt(world, sitting)
    return attempt


def kinds(**filters) -> list[str]:
    return list(
        Notice.objects.filter(**filters).order_by("at", "id").values_list("kind", flat=True)
    )


def test_silent_drop_is_noticed_after_heartbeat_plus_grace_and_not_before(
    working,
    store,  # noqa: F811
    settings,
):
    # given a student whose last heartbeat was at T0
    p = presence_of(working)
    store.connect(p, conn="c1", now=T0)
    limit = settings.PRESENCE_HEARTBEAT_S + settings.PRESENCE_GRACE_S
    # when the sweeper runs just before heartbeat + grace, nothing is said
    sweep_once(at(limit - 0.5))
    assert kinds() == []
    # and just after, the proctor gets one "connection lost" naming the student
    result = sweep_once(at(limit + 0.5))
    assert result["silent"] == 1
    notice = Notice.objects.get()
    assert notice.kind == NoticeKind.CONNECTION_LOST
    assert notice.sitting == working.sitting
    assert notice.data["name"] == working.person.full_name
    assert notice.data["since"] == at(0).isoformat()
    # a second sweep (or a second sweeper) does not repeat it
    sweep_once(at(limit + 3))
    assert Notice.objects.count() == 1


def test_return_after_silent_drop_reports_the_outage_length(working, store):  # noqa: F811
    p = presence_of(working)
    store.connect(p, conn="c1", now=T0)
    sweep_once(at(8))
    # when the student's heartbeat comes back 31 s after the last one
    lost = store.heartbeat(p, now=T0 + 31)
    assert lost is not None
    consumers._announce_restored(p, lost, T0 + 31)
    restored = Notice.objects.get(kind=NoticeKind.CONNECTION_RESTORED)
    assert restored.data["outage_seconds"] == 31
    assert "31 s" in notices.notice_text(restored)
    # and the next heartbeat is an ordinary one
    assert store.heartbeat(p, now=T0 + 34) is None


def test_heartbeats_keep_a_student_connected(working, store):  # noqa: F811
    p = presence_of(working)
    store.connect(p, conn="c1", now=T0)
    for second in range(3, 60, 3):
        assert store.heartbeat(p, now=T0 + second) is None
        sweep_once(at(second + 1))
    assert kinds() == []


def test_reconnect_within_the_hold_emits_neither_notice(working, store):  # noqa: F811
    p = presence_of(working)
    store.connect(p, conn="c1", now=T0)
    lost = store.close(p, conn="c1", now=T0 + 5)
    # the student reconnects before the close is announced
    back = store.connect(p, conn="c2", now=T0 + 5.3)
    assert back == lost
    consumers._announce_restored(p, back, T0 + 5.3)
    consumers._announce_lost(p, lost)  # the delayed announcement finds the drop claimed
    sweep_once(at(9))
    assert kinds() == []


def test_reconnect_after_the_close_was_announced_gives_lost_then_restored(
    working,
    store,  # noqa: F811
):
    p = presence_of(working)
    store.connect(p, conn="c1", now=T0)
    lost = store.close(p, conn="c1", now=T0 + 5)
    consumers._announce_lost(p, lost)
    back = store.connect(p, conn="c2", now=T0 + 17)
    consumers._announce_restored(p, back, T0 + 17)
    assert kinds() == [NoticeKind.CONNECTION_LOST, NoticeKind.CONNECTION_RESTORED]
    assert Notice.objects.get(kind=NoticeKind.CONNECTION_RESTORED).data["outage_seconds"] == 12


def test_close_whose_process_died_is_announced_by_the_sweeper(working, store):  # noqa: F811
    p = presence_of(working)
    store.connect(p, conn="c1", now=T0)
    store.close(p, conn="c1", now=T0 + 1)  # nobody announces it
    sweep_once(at(2))
    assert kinds() == []
    sweep_once(at(5))
    assert kinds() == [NoticeKind.CONNECTION_LOST]
    sweep_once(at(9))
    assert Notice.objects.count() == 1


def test_an_older_socket_closing_after_a_new_one_opened_is_not_a_drop(
    working,
    store,  # noqa: F811
):
    p = presence_of(working)
    store.connect(p, conn="old", now=T0)
    store.connect(p, conn="new", now=T0 + 1)
    assert store.close(p, conn="old", now=T0 + 2) is None
    sweep_once(at(6))
    assert kinds() == []


def test_submitted_student_dropping_gives_no_notice(working, store):  # noqa: F811
    from delivery.attempts import attempt_submit

    p = presence_of(working)
    store.connect(p, conn="c1", now=T0)
    attempt_submit(attempt=working)
    sweep_once(at(20))
    assert kinds(kind=NoticeKind.CONNECTION_LOST) == []


def test_a_drop_nobody_returns_from_is_announced_once_not_again_a_day_later(
    working,
    store,  # noqa: F811
    ten_o_clock,
):
    p = presence_of(working)
    store.connect(p, conn="c1", now=T0)
    sweep_once(at(10))
    assert kinds() == [NoticeKind.CONNECTION_LOST]
    # a day later the drop's claim has expired; the drop must not come back as a new one
    ten_o_clock.move_to(at(25 * 3600))
    sweep_once(at(25 * 3600))
    assert kinds() == [NoticeKind.CONNECTION_LOST]
    assert store.snapshot(p.unit) == ({}, {})


def test_a_lost_student_whose_attempt_is_submitted_is_no_longer_counted_lost(
    working,
    store,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from delivery.attempts import attempt_submit

    p = presence_of(working)
    store.connect(p, conn="c1", now=T0)
    sweep_once(at(10))
    assert p.member in store.snapshot(p.unit)[1]
    with django_capture_on_commit_callbacks(execute=True):
        attempt_submit(attempt=working)
    assert store.snapshot(p.unit) == ({}, {})


def _room_of(world, n):
    sitting = make_sitting(world, students=[student(world.unit) for _ in range(n)])
    attempts = [
        started_attempt(world, sitting, person=pl.person)[0]
        for pl in SittingStudent.objects.filter(sitting=sitting).select_related("person")
    ]
    return sitting, attempts


def test_many_drops_in_one_room_give_it_one_room_notice(world, ten_o_clock, store):  # noqa: F811
    sitting, attempts = _room_of(world, 12)
    for a in attempts:
        store.connect(presence_of(a), conn=f"c{a.pk}", now=T0)
    # when all twelve go silent together
    sweep_once(at(8))
    # then the proctors see twelve students lost
    assert Notice.objects.filter(sitting=sitting, kind=NoticeKind.CONNECTION_LOST).count() == 12
    # and IT sees the first four individually and one room notice counting all twelve
    for_it = notices.notices_for_it(school_unit=world.unit)
    room = [n for n in for_it if n.kind == NoticeKind.ROOM_CONNECTION_LOST]
    assert len(room) == 1
    assert room[0].data["count"] == 12
    assert room[0].data["room"] == sitting.room.name
    assert len(for_it) == 1 + 4
    assert "12" in notices.notice_text(room[0])


def test_drops_spread_out_in_time_are_reported_one_by_one(world, ten_o_clock, store):  # noqa: F811
    _sitting, attempts = _room_of(world, 6)
    for i, a in enumerate(attempts):
        p = presence_of(a)
        store.connect(p, conn="c", now=T0)
        consumers._announce_lost(p, store.close(p, conn="c", now=T0 + 10 * i))
    for_it = notices.notices_for_it(school_unit=world.unit)
    assert [n.kind for n in for_it] == [NoticeKind.CONNECTION_LOST] * 6


def test_restores_of_a_room_burst_update_the_room_notice(world, ten_o_clock, store):  # noqa: F811
    _sitting, attempts = _room_of(world, 8)
    ps = [presence_of(a) for a in attempts]
    for p in ps:
        store.connect(p, conn="c", now=T0)
    sweep_once(at(8))
    for p in ps:
        consumers._announce_restored(p, store.heartbeat(p, now=T0 + 40), T0 + 40)
    room = Notice.objects.get(kind=NoticeKind.ROOM_CONNECTION_LOST)
    assert room.data["restored"] == 4  # the burst's drops; the first four IT saw individually
    assert Notice.objects.filter(kind=NoticeKind.CONNECTION_RESTORED).count() == 8
    it_restored = [
        n
        for n in notices.notices_for_it(school_unit=world.unit)
        if n.kind == NoticeKind.CONNECTION_RESTORED
    ]
    assert len(it_restored) == 4
