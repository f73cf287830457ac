"""The presence socket and the staff sockets, over the in-memory channel layer."""

from __future__ import annotations

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from delivery.models import Notice, NoticeKind
from delivery.presence import Presence
from provplattform.asgi import application
from schools.roles import Role
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt
from tests.delivery.presence_helpers import announced, presence_of, store  # noqa: F401

ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture
def live(world, store, transactional_db):  # noqa: F811
    with time_machine.travel(local_at(10), tick=True):
        sitting = make_sitting(world)
        attempt, token = started_attempt(world, sitting)
        yield world, sitting, attempt, token


def student_cookie(attempt, token) -> bytes:
    session = SessionStore()
    session["student"] = {"attempt": attempt.pk, "device": token}
    session.save()
    return f"sessionid={session.session_key}".encode()


def staff_cookie(user) -> bytes:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"sessionid={session.session_key}".encode()


def socket(path: str, cookie: bytes | None) -> WebsocketCommunicator:
    headers = [ORIGIN] + ([(b"cookie", cookie)] if cookie else [])
    return WebsocketCommunicator(application, path, headers=headers)


def run(coro_fn):
    return async_to_sync(coro_fn)()


def test_student_socket_greets_with_heartbeat_and_grace_and_answers_heartbeats(live, settings):
    _world, _sitting, attempt, token = live
    cookie = student_cookie(attempt, token)

    async def scenario():
        ws = socket(f"/ws/attempt/{attempt.public_id}/", cookie)
        connected, _ = await ws.connect()
        assert connected
        hello = await ws.receive_json_from()
        assert hello == {
            "type": "hello",
            "heartbeat_s": settings.PRESENCE_HEARTBEAT_S,
            "grace_s": settings.PRESENCE_GRACE_S,
        }
        await ws.send_json_to({"type": "hb"})
        assert await ws.receive_json_from() == {"type": "hb"}
        await ws.disconnect()

    run(scenario)


def test_closed_socket_notifies_the_proctor_and_a_return_reports_the_outage(live, store):  # noqa: F811
    world, sitting, attempt, token = live
    cookie = student_cookie(attempt, token)
    proctor_cookie = staff_cookie(world.staff[Role.PROCTOR])
    it_cookie = staff_cookie(world.staff[Role.ASSESSOR])

    async def scenario():
        proctor = socket(f"/ws/sitting/{sitting.public_id}/", proctor_cookie)
        assert (await proctor.connect())[0]
        it = socket(f"/ws/it/{world.unit.public_id}/", it_cookie)
        assert (await it.connect())[0]
        student = socket(f"/ws/attempt/{attempt.public_id}/", cookie)
        assert (await student.connect())[0]
        await student.receive_json_from()
        # when the student's socket closes
        await student.disconnect()
        await announced()
        # then the proctor and IT hear "connection lost" naming the student
        lost = await proctor.receive_json_from()
        assert lost["kind"] == NoticeKind.CONNECTION_LOST
        assert lost["attempt"] == str(attempt.public_id)
        assert lost["name"] == attempt.person.full_name
        assert (await it.receive_json_from())["kind"] == NoticeKind.CONNECTION_LOST
        # when the student comes back
        again = socket(f"/ws/attempt/{attempt.public_id}/", cookie)
        assert (await again.connect())[0]
        restored = await proctor.receive_json_from()
        assert restored["kind"] == NoticeKind.CONNECTION_RESTORED
        assert restored["outage_seconds"] >= 0
        await again.disconnect()
        await announced()
        await proctor.disconnect()
        await it.disconnect()

    run(scenario)
    assert (
        list(Notice.objects.filter(sitting=sitting).values_list("kind", flat=True))
        == [
            NoticeKind.CONNECTION_LOST,
            NoticeKind.CONNECTION_RESTORED,
            NoticeKind.CONNECTION_LOST,
        ][::-1]
    )


def test_a_close_right_after_a_heartbeat_is_still_announced_as_a_close(live, store):  # noqa: F811
    """The heartbeat's answer meets a closed socket, as when a tab closes mid-heartbeat.

    uvicorn then raises ClientDisconnected (an OSError) from send; the close must still be
    announced at once, not left for the sweeper to report as a silent drop seconds later.
    """
    world, sitting, attempt, token = live
    proctor_cookie = staff_cookie(world.staff[Role.PROCTOR])
    cookie = student_cookie(attempt, token)
    client_gone = False

    async def server_refusing_sends_once_gone(scope, receive, send):
        async def send_or_raise(message):
            if client_gone:
                raise OSError("client disconnected")
            await send(message)

        await application(scope, receive, send_or_raise)

    async def scenario():
        nonlocal client_gone
        proctor = socket(f"/ws/sitting/{sitting.public_id}/", proctor_cookie)
        assert (await proctor.connect())[0]
        student = WebsocketCommunicator(
            server_refusing_sends_once_gone,
            f"/ws/attempt/{attempt.public_id}/",
            headers=[ORIGIN, (b"cookie", cookie)],
        )
        assert (await student.connect())[0]
        await student.receive_json_from()
        # the student sends a heartbeat and closes before its answer can be written
        client_gone = True
        await student.send_json_to({"type": "hb"})
        await student.disconnect()
        await announced()
        lost = await proctor.receive_json_from()
        assert lost["kind"] == NoticeKind.CONNECTION_LOST
        assert lost["attempt"] == str(attempt.public_id)
        await proctor.disconnect()

    run(scenario)
    notice = Notice.objects.get(sitting=sitting, kind=NoticeKind.CONNECTION_LOST)
    assert notice.data["silent"] is False


def test_flapping_reconnect_within_the_hold_gives_no_notice(live, settings, store):  # noqa: F811
    _world, sitting, attempt, token = live
    settings.PRESENCE_CLOSE_HOLD_S = 5  # a reconnect well inside the hold
    cookie = student_cookie(attempt, token)

    async def scenario():
        first = socket(f"/ws/attempt/{attempt.public_id}/", cookie)
        await first.connect()
        await first.disconnect()
        second = socket(f"/ws/attempt/{attempt.public_id}/", cookie)
        assert (await second.connect())[0]
        await announced()
        await second.send_json_to({"type": "hb"})
        await second.receive_json_from()

    run(scenario)
    assert not Notice.objects.filter(sitting=sitting).exists()
    _seen, lost = store.snapshot(world_unit := sitting.school_unit_id)
    assert Presence(attempt.pk, sitting.pk, sitting.room_id, world_unit).member in _seen
    assert lost == {}


def test_device_replaced_is_forwarded_and_the_old_socket_closes_quietly(live, store):  # noqa: F811
    from delivery import devices

    _world, sitting, attempt, token = live
    cookie = student_cookie(attempt, token)

    async def scenario():
        old = socket(f"/ws/attempt/{attempt.public_id}/", cookie)
        assert (await old.connect())[0]
        await old.receive_json_from()
        from channels.db import database_sync_to_async

        await database_sync_to_async(devices.attempt_login)(attempt=attempt)
        assert await old.receive_json_from() == {"type": "device.replaced"}
        closed = await old.receive_output()
        assert closed == {"type": "websocket.close", "code": 4409}
        await old.disconnect(code=4409)
        await announced()

    run(scenario)
    assert not Notice.objects.filter(sitting=sitting, kind=NoticeKind.CONNECTION_LOST).exists()
    assert presence_of(attempt).member not in store.snapshot(sitting.school_unit_id)[0]


def test_student_socket_refused_without_the_device_of_the_session(live):
    _world, _sitting, attempt, _token = live
    cookies = (None, student_cookie(attempt, "not-the-device"))

    async def scenario():
        for cookie in cookies:
            ws = socket(f"/ws/attempt/{attempt.public_id}/", cookie)
            connected, _code = await ws.connect()
            assert not connected

    run(scenario)


@pytest.mark.parametrize("who", ["outsider", "sibling_head", Role.OTHER_STAFF, Role.ASSESSOR])
def test_proctor_socket_refused_for_anyone_without_the_proctor_capability(live, who):
    world, sitting, _attempt, _token = live
    user = getattr(world, who) if isinstance(who, str) and hasattr(world, who) else world.staff[who]
    cookie = staff_cookie(user)

    async def scenario():
        ws = socket(f"/ws/sitting/{sitting.public_id}/", cookie)
        connected, _ = await ws.connect()
        assert not connected
        anonymous = socket(f"/ws/sitting/{sitting.public_id}/", None)
        assert not (await anonymous.connect())[0]

    run(scenario)


@pytest.mark.parametrize("who", ["outsider", "sibling_head", Role.OTHER_STAFF])
def test_it_socket_refused_for_anyone_without_connectivity_rights_at_the_unit(live, who):
    world, _sitting, _attempt, _token = live
    user = getattr(world, who) if isinstance(who, str) and hasattr(world, who) else world.staff[who]
    cookie = staff_cookie(user)

    async def scenario():
        ws = socket(f"/ws/it/{world.unit.public_id}/", cookie)
        assert not (await ws.connect())[0]

    run(scenario)


def test_proctor_socket_receives_attempt_changes(live):
    from channels.db import database_sync_to_async

    from delivery import attempts

    world, sitting, attempt, _token = live
    cookie = staff_cookie(world.staff[Role.PROCTOR])

    async def scenario():
        ws = socket(f"/ws/sitting/{sitting.public_id}/", cookie)
        assert (await ws.connect())[0]
        await database_sync_to_async(attempts.attempt_pause)(
            actor=world.staff[Role.PROCTOR], attempt=attempt
        )
        event = await ws.receive_json_from()
        assert event["type"] == "attempt.changed"
        assert event["status"] == "paused"
        await ws.disconnect()

    run(scenario)


DEAD_REDIS_LAYER = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # Nothing listens on port 1: the layer fails the way it does while Redis is down.
        "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
    }
}


def test_sockets_stay_open_and_answer_heartbeats_while_the_channel_layer_is_down(
    live, settings, caplog
):
    world, sitting, attempt, token = live
    settings.CHANNEL_LAYERS = DEAD_REDIS_LAYER
    paths = [
        (f"/ws/attempt/{attempt.public_id}/", student_cookie(attempt, token)),
        (f"/ws/sitting/{sitting.public_id}/", staff_cookie(world.staff[Role.PROCTOR])),
        (f"/ws/it/{world.unit.public_id}/", staff_cookie(world.staff[Role.PROCTOR])),
    ]

    async def scenario():
        for path, cookie in paths:
            ws = socket(path, cookie)
            connected, _code = await ws.connect()
            assert connected, path
            if path.startswith("/ws/attempt/"):
                assert (await ws.receive_json_from())["type"] == "hello"
            # The layer's receive fails and is retried meanwhile; the socket stays open.
            for _ in range(3):
                await ws.send_json_to({"type": "hb"})
                assert await ws.receive_json_from(timeout=2) == {"type": "hb"}
            await ws.disconnect()

    run(scenario)
    # No student was reported lost because the layer, not the student, was unavailable.
    assert not Notice.objects.filter(sitting=sitting).exists()
    assert "channel layer unavailable" in caplog.text


def test_a_server_shutdown_closing_the_socket_announces_nothing(live, store):  # noqa: F811
    """A deploy closes every socket with 1012: the process stops, not the student, whose page
    reconnects to another worker at once; should it not, the sweeper finds the silence."""
    world, sitting, attempt, token = live
    cookie = student_cookie(attempt, token)

    async def scenario():
        student = socket(f"/ws/attempt/{attempt.public_id}/", cookie)
        assert (await student.connect())[0]
        await student.receive_json_from()
        await student.disconnect(code=1012)
        await announced()

    run(scenario)
    assert not Notice.objects.filter(sitting=sitting).exists()
    assert store.snapshot(world.unit.pk)[1] == {}  # no drop left for the sweeper to announce
