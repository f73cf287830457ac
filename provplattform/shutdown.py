"""A web process that always stops: the ASGI lifespan of provplattform.asgi.application.

On SIGTERM uvicorn closes every socket with 1012 "service restart" (the pages reconnect at once,
to another worker behind the load balancer), waits at most --timeout-graceful-shutdown for
requests under way, then sends "lifespan.shutdown". Here the process then finishes what it owes
(close announcements still in their hold, the save pool) and arms a watchdog: should anything
keep the event loop from ending (a task that ignores its cancellation, as a channel-layer
receive can; see docs/operations.md), the process exits anyway SHUTDOWN_EXIT_AFTER_S later, so a
deploy never ends in SIGKILL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

from delivery import consumers, save_api

log = logging.getLogger(__name__)

# What the pending work may take, then how long the loop may take to end after it.
SHUTDOWN_FLUSH_S = 2.0
SHUTDOWN_EXIT_AFTER_S = 3.0


def _exit_now() -> None:
    log.warning("web process still running %.0f s after shutdown: exiting", SHUTDOWN_EXIT_AFTER_S)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(0)


def exit_watchdog(after: float = SHUTDOWN_EXIT_AFTER_S) -> threading.Timer:
    timer = threading.Timer(after, _exit_now)
    timer.daemon = True  # a process that ends normally does not wait for it
    timer.start()
    return timer


async def on_shutdown() -> None:
    try:
        async with asyncio.timeout(SHUTDOWN_FLUSH_S):
            await consumers.pending_flush()
            await save_api.pools_close()
    except TimeoutError:
        log.warning("shutdown: pending work not finished within %.0f s", SHUTDOWN_FLUSH_S)
    except Exception:
        log.exception("shutdown: pending work failed")


def with_lifespan(app):
    """Answer the lifespan protocol (uvicorn, docker-compose's web service) around `app`."""

    async def application(scope, receive, send):
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await on_shutdown()
                exit_watchdog()
                await send({"type": "lifespan.shutdown.complete"})
                return

    return application
