"""WebSocket consumers of the live sitting: thin — authenticate, join a group, forward.

- /ws/attempt/<attempt>/  the exam client's presence socket. Authenticated by the student's session
  (which holds the attempt and this device's token; see delivery.student_views); heartbeats every
  PRESENCE_HEARTBEAT_S. Receives "attempt.changed" and "device.replaced" for its attempt.
- /ws/sitting/<sitting>/  the proctor room: staff with Capability.PROCTOR at the sitting's unit.
- /ws/it/<unit>/          the IT page: staff with Capability.VIEW_CONNECTIVITY at the unit.

Unauthorised sockets are closed before they are accepted (the handshake answers 403), and a
missing object is treated the same as someone else's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest
from django.utils import translation

from delivery import notices, outbox
from delivery.models import Attempt, AttemptStatus
from delivery.presence import Lost, Presence, PresenceUnavailable, get_store, new_conn_id
from delivery.selectors import access_sitting
from provplattform.errors import NotFound
from provplattform.logs import warn_every
from schools.roles import Capability
from schools.selectors import access_school_unit

log = logging.getLogger(__name__)

CLOSE_REFUSED = 4403
CLOSE_REPLACED = 4409
CLOSE_TRY_AGAIN = 1013
# uvicorn closes every socket with this code when the process is told to stop.
CLOSE_SERVICE_RESTART = 1012
# While the channel layer is away a socket retries its receive this often (doubling up to max).
LAYER_RETRY_S = 0.25
LAYER_RETRY_MAX_S = 2.0
STUDENT_SESSION_KEY = "student"
# Tasks announcing closes after the hold; kept referenced so they are not collected early.
_pending: set[asyncio.Task] = set()


def _store_call(fn, *args, **kwargs):
    """Run a presence store call off the event loop; a store outage gives None."""

    def call():
        try:
            return fn(*args, **kwargs)
        except PresenceUnavailable:
            return None

    return sync_to_async(call, thread_sensitive=False)()


def _warn_once_in_a_while(what: str, exc: BaseException) -> None:
    """One line per kind of trouble every few seconds per process, not one per socket."""
    warn_every(log, what, "%s: %s %s", what, type(exc).__name__, exc)


def database_guard(app):
    """Wrap the WebSocket stack: a socket whose opening needs the database while it is away (the
    session, the user, the attempt) is accepted and closed with 1013 "try again later", which
    every page's socket answers by reconnecting, instead of ending in a traceback and a 403."""

    async def guarded(scope, receive, send):
        state = {"accepted": False, "closed": False}

        async def tracking_send(message):
            if message["type"] == "websocket.accept":
                state["accepted"] = True
            elif message["type"] == "websocket.close":
                state["closed"] = True
            await send(message)

        try:
            await app(scope, receive, tracking_send)
        except (OperationalError, InterfaceError) as exc:
            _warn_once_in_a_while("database unavailable, socket asked to reconnect", exc)
            if state["closed"]:
                return
            with contextlib.suppress(Exception):
                if not state["accepted"]:
                    await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})

    return guarded


async def _cancellable(coro):
    """Await `coro` in a task of its own, so that cancelling the caller never waits for it.

    A channels-redis receive does not always end promptly when cancelled (it may be inside its
    BRPOP loop); Channels cancels the receive when a socket closes and waits for it, so a closed
    socket's consumer could outlive it and hold up a worker's shutdown (docs/operations.md).
    """
    task = asyncio.ensure_future(coro)
    try:
        await asyncio.wait({task})
    except asyncio.CancelledError:
        task.cancel()  # asked, not awaited
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # nothing left unread
        raise
    return task.result()


class _LiveConsumer(AsyncJsonWebsocketConsumer):
    """A socket that outlives its client's last message and the channel layer's outages.

    - A client may close right after sending (a heartbeat, then the tab closes): the answer to
      that message then meets a closed connection, and uvicorn raises ClientDisconnected (an
      OSError). Let through, that error would end the consumer without disconnect(), and the
      drop would be announced only as a silent one by the sweeper. The server has already queued
      "websocket.disconnect", so dropping the send lets disconnect() run as for any close.
    - The channel layer (Redis) may go away. Channels ends a consumer whose layer receive fails,
      closing every socket; here the receive waits and retries instead, the socket stays open and
      its heartbeats are answered. The socket's group is joined (again) as soon as the layer
      answers (Redis may come back empty), and the client is told to catch up ("resync") with
      what it may have missed meanwhile.
    """

    groups_joined: tuple[str, ...] = ()
    _rejoin = False

    async def __call__(self, scope, receive, send):
        async def send_unless_gone(message):
            try:
                await send(message)
            except OSError:
                log.debug("send to a closed socket dropped: %s", message.get("type"))

        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send_unless_gone
        self._resync = False
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            sources.append(self._channel_receive)
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch(sources, self.dispatch)

    async def join(self, group: str) -> None:
        """Join a group; while the layer is away the socket is accepted all the same and
        joins once the layer is back."""
        self.groups_joined = (*self.groups_joined, group)
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception as exc:
            _warn_once_in_a_while("channel layer unavailable, sockets wait for it", exc)
            self._rejoin = True

    async def _channel_receive(self):
        delay = LAYER_RETRY_S
        while True:
            if self._rejoin:
                try:
                    for group in self.groups_joined:
                        await self.channel_layer.group_add(group, self.channel_name)
                except Exception as exc:
                    _warn_once_in_a_while("channel layer unavailable, sockets wait for it", exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, LAYER_RETRY_MAX_S)
                    continue
                self._rejoin = False
                if self._resync:
                    self._resync = False
                    return {"type": "layer.resync"}
            try:
                return await _cancellable(self.channel_layer.receive(self.channel_name))
            except Exception as exc:
                _warn_once_in_a_while("channel layer receive failed, sockets wait for it", exc)
                self._rejoin = self._resync = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, LAYER_RETRY_MAX_S)

    async def layer_resync(self, event):
        """Group events may have been missed while the layer was away: the page catches up."""
        await self.send_json({"type": "resync"})

    async def leave(self) -> None:
        for group in self.groups_joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception as exc:
                _warn_once_in_a_while("group discard failed", exc)


def _socket_attempt(public_id, session) -> dict | None:
    data = session.get(STUDENT_SESSION_KEY) if session is not None else None
    if not data or not data.get("device"):
        return None
    attempt = (
        Attempt.objects.select_related("person", "sitting__room", "sitting__school_unit")
        .filter(pk=data.get("attempt"), public_id=public_id)
        .first()
    )
    if attempt is None or not attempt.device_token or attempt.device_token != data["device"]:
        return None
    return {
        "card": outbox.student_card(attempt),
        "presence": Presence.of(attempt),
        "device": attempt.device_token,
        "status": attempt.status,
    }


def _announce_restored(presence: Presence, lost: Lost, now: float) -> None:
    """The student is back. Before the close was announced: nothing at all (debounce)."""
    try:
        if get_store().claim(lost.drop, "quiet"):
            return
    except PresenceUnavailable:
        return
    outbox.drop_announce(kind=outbox.RESTORED, presence=presence, lost=lost, now=now)


def _announce_lost(presence: Presence, lost: Lost) -> None:
    try:
        if not get_store().claim(lost.drop, "lost"):
            return
    except PresenceUnavailable:
        return
    outbox.drop_announce(kind=outbox.LOST, presence=presence, lost=lost)


async def pending_flush() -> None:
    """Wait for close announcements still in their hold (a web process shutting down)."""
    if _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)


async def _announce_lost_later(presence: Presence, lost: Lost) -> None:
    await asyncio.sleep(settings.PRESENCE_CLOSE_HOLD_S)
    try:
        await database_sync_to_async(_announce_lost)(presence, lost)
    except Exception:
        log.exception("connection lost notice failed for attempt %s", presence.attempt)


class AttemptConsumer(_LiveConsumer):
    """The exam client's presence socket."""

    presence: Presence | None = None

    async def connect(self):
        public_id = self.scope["url_route"]["kwargs"]["attempt"]
        info = await database_sync_to_async(_socket_attempt)(public_id, self.scope.get("session"))
        if info is None:
            await self.close(code=CLOSE_REFUSED)
            return
        self.group = f"attempt.{public_id}"
        await self.join(self.group)
        self.presence = info["presence"]
        self.device = info["device"]
        self.status = info["status"]
        self.conn = new_conn_id()
        self.quiet = False
        self.last_beat = 0.0
        await self.accept()
        await self.send_json(
            {
                "type": "hello",
                "heartbeat_s": settings.PRESENCE_HEARTBEAT_S,
                "grace_s": settings.PRESENCE_GRACE_S,
            }
        )
        now = time.time()
        # Kept so that a notice about this student can go out while the database is away.
        await _store_call(get_store().card_set, self.presence.attempt, info["card"])
        lost = await _store_call(get_store().connect, self.presence, conn=self.conn, now=now)
        if lost is not None:
            await self._restored(lost, now)

    async def _restored(self, lost: Lost, now: float) -> None:
        try:
            await database_sync_to_async(_announce_restored)(self.presence, lost, now)
        except Exception:
            log.exception("restored notice failed for attempt %s", self.presence.attempt)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or content.get("type") != "hb":
            return
        now = time.time()
        # One store write per heartbeat at most; a chatty client is not allowed more.
        if now - self.last_beat >= 0.5:
            self.last_beat = now
            lost = await _store_call(get_store().heartbeat, self.presence, now=now)
            if lost is not None:
                await self._restored(lost, now)
        await self.send_json({"type": "hb"})

    async def disconnect(self, code):
        if self.presence is None:
            return
        await self.leave()
        store = get_store()
        if code == CLOSE_SERVICE_RESTART:
            # This process is stopping (a deploy), not the student: the page reconnects at once
            # to another worker and its heartbeats go on. Should it not come back, the sweeper
            # finds the silence and announces it like any silent drop.
            return
        if self.quiet or self.status in AttemptStatus.FINISHED:
            await _store_call(store.forget, self.presence, conn=self.conn)
            return
        lost = await _store_call(store.close, self.presence, conn=self.conn, now=time.time())
        if lost is not None:
            task = asyncio.get_running_loop().create_task(_announce_lost_later(self.presence, lost))
            _pending.add(task)
            task.add_done_callback(_pending.discard)

    # group events

    async def attempt_changed(self, event):
        self.status = event.get("status", self.status)
        await self.send_json(event)

    async def device_replaced(self, event):
        old = event.get("old_device")
        if old and not self.device.startswith(old):
            return  # the new device hears its own replacement announced; not for it
        self.quiet = True
        await self.send_json({"type": "device.replaced"})
        await self.close(code=CLOSE_REPLACED)

    async def notice(self, event):
        """Notices are for staff; a student's socket ignores them."""


def _sitting_for(user, public_id):
    if not user or not user.is_authenticated:
        return None
    try:
        return access_sitting(user=user, public_id=public_id, capability=Capability.PROCTOR)
    except NotFound:
        return None


def _unit_for(user, public_id):
    if not user or not user.is_authenticated:
        return None
    try:
        return access_school_unit(
            user=user, public_id=public_id, capability=Capability.VIEW_CONNECTIVITY
        )
    except NotFound:
        return None


def page_language(scope) -> str:
    """The language of the page that opened the socket, chosen as LocaleMiddleware chose it for
    the page: the language cookie, then Accept-Language, then the default."""
    headers = dict(scope.get("headers") or [])
    request = HttpRequest()
    request.COOKIES = dict(scope.get("cookies") or {})
    request.META["HTTP_ACCEPT_LANGUAGE"] = headers.get(b"accept-language", b"").decode("latin-1")
    return translation.get_language_from_request(request)


class _StaffConsumer(_LiveConsumer):
    group: str | None = None
    language = settings.LANGUAGE_CODE

    async def websocket_connect(self, message):
        self.language = page_language(self.scope)
        await super().websocket_connect(message)

    async def disconnect(self, code):
        await self.leave()

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "hb":
            await self.send_json({"type": "hb"})

    async def notice(self, event):
        """Every notice reaches the page with its sentence (delivery.notices.event_text) in the
        page's language, whoever sent it: a stored notice, one sent from the outbox while the
        database was away, or a device switch."""
        await self.send_json(notices.event_with_text(event, language=self.language))


class SittingConsumer(_StaffConsumer):
    """The proctor room's live feed: attempt changes and notices of one sitting."""

    async def connect(self):
        public_id = self.scope["url_route"]["kwargs"]["sitting"]
        sitting = await database_sync_to_async(_sitting_for)(self.scope.get("user"), public_id)
        if sitting is None:
            await self.close(code=CLOSE_REFUSED)
            return
        group = notices.sitting_group(sitting.public_id)
        await self.join(group)
        self.group = group
        await self.accept()

    async def attempt_changed(self, event):
        await self.send_json(event)

    async def sitting_changed(self, event):
        await self.send_json(event)


class UnitITConsumer(_StaffConsumer):
    """The IT page's live feed: the unit's notices across rooms."""

    async def connect(self):
        public_id = self.scope["url_route"]["kwargs"]["unit"]
        unit = await database_sync_to_async(_unit_for)(self.scope.get("user"), public_id)
        if unit is None:
            await self.close(code=CLOSE_REFUSED)
            return
        group = notices.it_group(unit.public_id)
        await self.join(group)
        self.group = group
        await self.accept()
