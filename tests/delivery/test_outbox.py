"""Every claimed drop is announced, even while the database is away (delivery.outbox).

The database is made unavailable by making the notice writes raise OperationalError, the error
a stopped PostgreSQL gives; tests/e2e/test_outages.py stops a real one.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import OperationalError

from delivery import consumers, notices, outbox
from delivery.models import Notice, NoticeKind
from delivery.sweeper import sweep_once
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt
from tests.delivery.presence_helpers import presence_of, store  # noqa: F401

T0 = local_at(10).timestamp()


def at(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(T0 + seconds, tz=datetime.UTC)


@pytest.fixture
def working(world, store):  # noqa: F811
    with time_machine.travel(local_at(10), tick=False):
        sitting = make_sitting(world)
        attempt, _token = started_attempt(world, sitting)
        yield attempt


@pytest.fixture
def database_away(monkeypatch):
    """Notice writes fail as they do while PostgreSQL is stopped, until `back()` is called."""
    real = {
        "notice_connection_lost": notices.notice_connection_lost,
        "notice_connection_restored": notices.notice_connection_restored,
    }

    def failing(**kwargs):
        raise OperationalError("connection refused")

    for name in real:
        monkeypatch.setattr(notices, name, failing)

    class Switch:
        def back(self):
            for name, fn in real.items():
                monkeypatch.setattr(notices, name, fn)

    return Switch()


@pytest.fixture
def live(monkeypatch):
    sent = []
    monkeypatch.setattr(outbox, "send_now", lambda group, event: sent.append((group, event)))
    return sent


def kinds() -> list[str]:
    return list(Notice.objects.order_by("id").values_list("kind", flat=True))


def test_a_drop_during_a_database_outage_is_sent_live_and_stored_once_it_is_back(
    working,
    store,  # noqa: F811
    database_away,
    live,
):
    p = presence_of(working)
    store.card_set(p.attempt, outbox.student_card(working))
    store.connect(p, conn="c1", now=T0)
    # the student goes silent while the database is away: the sweeper claims the drop
    sweep_once(at(8))
    assert kinds() == []
    # then the proctors and IT hear of it live, once, from what the store knows
    assert [(g.split(".")[0], e["kind"], e["name"], e["id"]) for g, e in live] == [
        ("sitting", "connection_lost", working.person.full_name, None),
        ("unit", "connection_lost", working.person.full_name, None),
    ]
    sweep_once(at(8.5))
    assert len(live) == 2
    # the student comes back, still during the outage
    lost = store.heartbeat(p, now=T0 + 20)
    consumers._announce_restored(p, lost, T0 + 20)
    assert kinds() == []
    # when the database is back, the next sweep stores both, loss first, each once
    database_away.back()
    sweep_once(at(21))
    assert kinds() == [NoticeKind.CONNECTION_LOST, NoticeKind.CONNECTION_RESTORED]
    restored = Notice.objects.get(kind=NoticeKind.CONNECTION_RESTORED)
    assert restored.data["outage_seconds"] == 20
    sweep_once(at(22))
    assert len(kinds()) == 2
    assert store.outbox_head(10) == []


def test_a_notice_written_twice_is_stored_once(working, store):  # noqa: F811
    p = presence_of(working)
    store.connect(p, conn="c1", now=T0)
    ((presence, lost),) = store.declare_silent(p.unit, before=T0 + 1)
    assert notices.notice_connection_lost(presence=presence, lost=lost) is not None
    # the removal from the outbox failed: the same notice is written again
    notices.notice_connection_lost(presence=presence, lost=lost)
    notices.notice_connection_restored(presence=presence, lost=lost, now=T0 + 9)
    notices.notice_connection_restored(presence=presence, lost=lost, now=T0 + 9)
    assert kinds() == [NoticeKind.CONNECTION_LOST, NoticeKind.CONNECTION_RESTORED]


def test_never_a_restored_without_its_lost(working, store):  # noqa: F811
    p = presence_of(working)
    store.connect(p, conn="c1", now=T0)
    ((presence, lost),) = store.declare_silent(p.unit, before=T0 + 1)
    assert notices.notice_connection_restored(presence=presence, lost=lost, now=T0 + 9) is None
    assert kinds() == []
