"""The hook primitive: how a higher layer hears of what happens in a lower one."""

import pytest
import time_machine

from delivery import attempts
from delivery.models import AttemptStatus
from provplattform.hooks import Hook
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt


def test_subscribers_are_called_once_each_in_order_of_subscription():
    hook = Hook("example")
    calls = []
    first = hook.subscribe(lambda value: calls.append(("first", value)))
    hook.subscribe(lambda value: calls.append(("second", value)))
    hook.subscribe(first)  # subscribing twice calls once

    hook.notify(1)

    assert calls == [("first", 1), ("second", 1)]


def test_subscribed_lasts_for_the_block_only():
    hook = Hook("example")
    with hook.subscribed(print):
        assert list(hook) == [print]
    assert list(hook) == []


def test_replaced_restores_the_previous_subscribers():
    hook = Hook("example")
    hook.subscribe(print)
    with hook.replaced(repr):
        assert list(hook) == [repr]
    assert list(hook) == [print]


def test_a_subscriber_that_refuses_stops_the_notification():
    hook = Hook("example")

    def refuse(value):
        raise ValueError(value)

    hook.subscribe(refuse)
    with pytest.raises(ValueError):
        hook.notify(1)


@pytest.mark.django_db
def test_submit_subscribers_hear_of_every_submit_in_both_registration_styles(world):
    # given a subscriber registered list-style and one registered with on_submit
    with time_machine.travel(local_at(10), tick=False):
        sitting = make_sitting(world)
        attempt, _ = started_attempt(world, sitting)
    heard = []

    def listed(a):
        heard.append(("listed", a.status))

    def named(a):
        heard.append(("named", a.status))

    attempts.submit_subscribers.append(listed)
    attempts.on_submit(named)
    try:
        # when the student submits
        with time_machine.travel(local_at(10, 5), tick=False):
            attempts.attempt_submit(attempt=attempt)
    finally:
        attempts.submit_subscribers.unsubscribe(listed)
        attempts.submit_subscribers.unsubscribe(named)

    # then both heard of it, with the attempt already submitted
    assert heard == [("listed", AttemptStatus.SUBMITTED), ("named", AttemptStatus.SUBMITTED)]
