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
import logging
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from delivery import notices
from delivery.models import Attempt
from delivery.presence import Lost, Presence, PresenceUnavailable, get_store, new_conn_id
from delivery.selectors import access_sitting
from provplattform.errors import NotFound
from schools.roles import Capability
from schools.selectors import access_school_unit

log = logging.getLogger(__name__)

CLOSE_REFUSED = 4403
CLOSE_REPLACED = 4409
CLOSE_TRY_AGAIN = 1013
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


async def _join(consumer: AsyncJsonWebsocketConsumer, group: str) -> bool:
    """Join a channel-layer group; while the layer (Redis) is down, refuse the socket politely.

    The client retries with back-off, so an outage gives one warning per attempt instead of a
    traceback, and the socket comes back on its own once Redis does.
    """
    try:
        await consumer.channel_layer.group_add(group, consumer.channel_name)
    except Exception as exc:
        log.warning("channel layer unavailable, socket asked to retry: %s", exc)
        await consumer.close(code=CLOSE_TRY_AGAIN)
        return False
    return True


class _LiveConsumer(AsyncJsonWebsocketConsumer):
    """A socket that keeps handling its queue after the client has gone.

    A client may close right after sending (a heartbeat, then the tab closes): the answer to that
    message then meets a closed connection, and uvicorn raises ClientDisconnected (an OSError).
    Let through, that error would end the consumer without disconnect(), and the drop would be
    announced only as a silent one by the sweeper. The server has already queued
    "websocket.disconnect", so dropping the send lets disconnect() run as for any close.
    """

    async def __call__(self, scope, receive, send):
        async def send_unless_gone(message):
            try:
                await send(message)
            except OSError:
                log.debug("send to a closed socket dropped: %s", message.get("type"))

        await super().__call__(scope, receive, send_unless_gone)


def _socket_attempt(public_id, session) -> dict | None:
    data = session.get(STUDENT_SESSION_KEY) if session is not None else None
    if not data or not data.get("device"):
        return None
    attempt = (
        Attempt.objects.select_related("sitting")
        .filter(pk=data.get("attempt"), public_id=public_id)
        .first()
    )
    if attempt is None or not attempt.device_token or attempt.device_token != data["device"]:
        return None
    return {
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
    notices.notice_connection_restored(presence=presence, lost=lost, now=now)


def _announce_lost(presence: Presence, lost: Lost) -> None:
    try:
        if not get_store().claim(lost.drop, "lost"):
            return
    except PresenceUnavailable:
        return
    notices.notice_connection_lost(presence=presence, lost=lost)


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
        if not await _join(self, self.group):
            return
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
        try:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        except Exception:
            log.warning("group discard failed", exc_info=True)
        store = get_store()
        if self.quiet or self.status in notices.QUIET_STATUSES:
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


class _StaffConsumer(_LiveConsumer):
    group: str | None = None

    async def disconnect(self, code):
        if self.group:
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except Exception:
                log.warning("group discard failed", exc_info=True)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "hb":
            await self.send_json({"type": "hb"})

    async def notice(self, event):
        await self.send_json(event)


class SittingConsumer(_StaffConsumer):
    """The proctor room's live feed: attempt changes and notices of one sitting."""

    async def connect(self):
        public_id = self.scope["url_route"]["kwargs"]["sitting"]
        sitting = await database_sync_to_async(_sitting_for)(self.scope.get("user"), public_id)
        if sitting is None:
            await self.close(code=CLOSE_REFUSED)
            return
        group = notices.sitting_group(sitting.public_id)
        if not await _join(self, group):
            return
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
        if not await _join(self, group):
            return
        self.group = group
        await self.accept()
