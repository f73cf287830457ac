"""Plain Django HTTP requests served the way a WSGI server serves them, inside the ASGI server.

Django's ASGI handler runs every sync middleware and the sync view through their own thread hops
(about fifteen per request here, each a round trip through the event loop). Under a login burst
those hops, not the view, were most of the cost. Here a request is read on the event loop, handed
whole to one thread of a bounded pool that runs Django's WSGI handler (middleware and view,
synchronously, no hops) and the answer is sent from the loop.

The pool's size is the per-process limit WEB_MAX_CONCURRENT_REQUESTS: each thread holds at most one
database connection, so a burst of 1,000 requests queues instead of opening 1,000 connections.
WebSockets, the autosave route (delivery.save_api) and anything that is not HTTP never come here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import tempfile
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.conf import settings

if TYPE_CHECKING:
    from django.core.handlers.wsgi import WSGIHandler

# Request bodies up to this size stay in memory; larger ones (spreadsheet uploads) go to disk.
SPOOL_MAX = 1024 * 1024


def build_environ(scope: dict, body, length: int) -> dict[str, Any]:
    """A WSGI environ for an ASGI HTTP scope (PEP 3333: strings are latin-1 decoded bytes)."""
    script_name = scope.get("root_path", "").encode("utf8").decode("latin1")
    path_info = scope["path"].encode("utf8").decode("latin1")
    if script_name and path_info.startswith(script_name):
        path_info = path_info[len(script_name) :]
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] if server[1] is not None else 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin1").lower()
        value = raw_value.decode("latin1")
        if name == "content-length":
            key = "CONTENT_LENGTH"
        elif name == "content-type":
            key = "CONTENT_TYPE"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    # A chunked body has no Content-Length; Django reads only as much as the header says.
    if length and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(length)
    return environ


async def _read_body(receive):
    """The whole request body, or None when the client went away before sending it."""
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX)  # noqa: SIM115 (closed by caller)
    length = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            body.close()
            return None, 0
        chunk = message.get("body", b"")
        length += len(chunk)
        body.write(chunk)
        more = message.get("more_body", False)
    body.seek(0)
    return body, length


class SyncDjango:
    """An ASGI app answering HTTP with Django's WSGI handler in a bounded thread pool."""

    def __init__(self, *, threads: int):
        self.threads = threads
        self._handler: WSGIHandler | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    def _ready(self) -> tuple[Any, concurrent.futures.ThreadPoolExecutor]:
        if self._handler is None:
            from django.core.handlers.wsgi import WSGIHandler  # noqa: PLC0415 - after django.setup()

            self._handler = WSGIHandler()
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.threads, thread_name_prefix="django-http"
            )
        return self._handler, self._executor

    async def __call__(self, scope, receive, send) -> None:
        handler, executor = self._ready()
        body, length = await _read_body(receive)
        if body is None:
            return
        loop = asyncio.get_running_loop()
        try:
            environ = build_environ(scope, body, length)
            # asgiref's wrapper (not a bare run_in_executor) so that async_to_sync inside Django,
            # e.g. a live event to the proctor room, runs on this loop with its Redis pool
            # instead of starting a loop and a connection of its own.
            answer = await sync_to_async(self._run, thread_sensitive=False, executor=executor)(
                handler, environ, loop, send
            )
        finally:
            body.close()
        if answer is not None:
            head, content = answer
            await send(head)
            await send({"type": "http.response.body", "body": content})

    @staticmethod
    def _run(handler, environ, loop, send):
        """In a pool thread: run Django; a buffered answer is returned, a streamed one sent here."""
        head: dict[str, Any] = {}

        def start_response(status: str, headers, exc_info=None):
            head.update(
                type="http.response.start",
                status=int(status.split(" ", 1)[0]),
                headers=[(k.encode("latin1"), v.strip().encode("latin1")) for k, v in headers],
            )

        response = handler(environ, start_response)
        try:
            if not getattr(response, "streaming", False):
                return head, b"".join(response)

            def deliver(message) -> None:
                asyncio.run_coroutine_threadsafe(send(message), loop).result()

            deliver(head)
            for chunk in response:
                if chunk:
                    deliver({"type": "http.response.body", "body": chunk, "more_body": True})
            deliver({"type": "http.response.body", "body": b""})
            return None
        finally:
            # Django's request_finished: the thread's database connection goes back now.
            response.close()


def http_bridge(*, threads: int):
    """The ASGI app that answers plain HTTP, as `settings.WEB_HTTP_BRIDGE` chooses.

    Both run Django's WSGI handler in a pool of `threads` threads. The kept bridge runs each
    request through asgiref's executor wrapper, so `async_to_sync` inside a view (a live event)
    reuses the server's loop and its Redis connections; a2wsgi's threads have no loop of their own.
    """
    if settings.WEB_HTTP_BRIDGE == "a2wsgi":
        from a2wsgi import WSGIMiddleware  # noqa: PLC0415 - optional: a dev dependency (bench)
        from django.core.handlers.wsgi import WSGIHandler  # noqa: PLC0415 - after django.setup()

        return WSGIMiddleware(WSGIHandler(), workers=threads)
    return SyncDjango(threads=threads)
