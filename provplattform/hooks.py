"""The one hook primitive: a lower layer announces, a higher layer subscribes.

A lower app names its hooks in its `hooks` module (`schools.hooks`, `exams.hooks`) or beside the
service that fires them (`delivery.attempts.submit_subscribers`); the higher app subscribes in
`AppConfig.ready()`. A lower layer never imports a higher one, so this is the only way an event
travels up. Tests subscribe for the length of a `with` block instead of touching the list.

    transfer_applied = Hook("transfer_applied")
    transfer_applied.subscribe(callback)         # or .append(callback), list style
    transfer_applied.notify(organiser, run)      # calls every subscriber, in order
    with transfer_applied.subscribed(spy): ...   # tests
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Hook(Generic[F]):
    def __init__(self, name: str):
        self.name = name
        self._subscribers: list[F] = []

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._subscribers)} subscribers>"

    def __iter__(self) -> Iterator[F]:
        # A copy: a subscriber that unsubscribes while being called does not skip the next.
        return iter(list(self._subscribers))

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self, callback: F) -> F:
        """Add `callback` once (subscribing twice calls it once); usable as a decorator."""
        if callback not in self._subscribers:
            self._subscribers.append(callback)
        return callback

    append = subscribe

    def unsubscribe(self, callback: F) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def clear(self) -> None:
        self._subscribers.clear()

    def notify(self, *args: Any, **kwargs: Any) -> list[Any]:
        """Call every subscriber in subscription order; their answers, in the same order. A
        subscriber's exception propagates: inside a transaction it rolls the change back."""
        return [callback(*args, **kwargs) for callback in self]

    @contextmanager
    def subscribed(self, callback: F) -> Iterator[F]:
        """`callback` subscribed for the block only (tests)."""
        fresh = callback not in self._subscribers
        self.subscribe(callback)
        try:
            yield callback
        finally:
            if fresh:
                self.unsubscribe(callback)

    @contextmanager
    def replaced(self, *callbacks: F) -> Iterator[Hook[F]]:
        """Only `callbacks` subscribed for the block; the previous subscribers afterwards."""
        saved = list(self._subscribers)
        self._subscribers[:] = list(callbacks)
        try:
            yield self
        finally:
            self._subscribers[:] = saved
