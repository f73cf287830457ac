"""The web process always stops: the lifespan shutdown finishes pending work and arms a watchdog."""

import asyncio

from provplattform import shutdown


def test_lifespan_shutdown_completes_and_arms_the_exit_watchdog(monkeypatch):
    armed = []
    monkeypatch.setattr(shutdown, "exit_watchdog", lambda: armed.append(True))

    async def never_called(scope, receive, send):  # pragma: no cover
        raise AssertionError("lifespan must not reach the app")

    async def go():
        inbox = asyncio.Queue()
        for kind in ("lifespan.startup", "lifespan.shutdown"):
            inbox.put_nowait({"type": kind})
        sent = []

        async def send(message):
            sent.append(message["type"])

        await shutdown.with_lifespan(never_called)({"type": "lifespan"}, inbox.get, send)
        return sent

    assert asyncio.run(go()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert armed == [True]


def test_the_watchdog_ends_a_process_whose_loop_does_not_end(monkeypatch):
    exits = []
    monkeypatch.setattr(shutdown.os, "_exit", exits.append)
    shutdown.exit_watchdog(after=0.01).join(timeout=2)
    assert exits == [0]
