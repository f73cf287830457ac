"""Delivery across processes through channels_redis and the real Redis.

The proctor's socket lives in this process; the notice is produced by another process, as when
the student and the proctor are connected to different server processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator

from provplattform.asgi import application
from schools.roles import Role
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt
from tests.delivery.presence_helpers import store  # noqa: F401
from tests.delivery.test_consumers import ORIGIN, staff_cookie

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/6"

OTHER_PROCESS = textwrap.dedent(
    """
    import asyncio, json, sys
    from channels_redis.core import RedisChannelLayer

    url, prefix, group, event = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    layer = RedisChannelLayer(hosts=[url], prefix=prefix)
    asyncio.run(layer.group_send(group, event))
    """
)


@pytest.fixture
def redis_layer(settings, store):  # noqa: F811
    prefix = f"pp-test-{uuid.uuid4().hex[:10]}"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": prefix},
        }
    }
    channel_layers.backends.clear()
    yield prefix
    channel_layers.backends.clear()


def test_proctor_socket_receives_a_notice_sent_by_another_process(
    world, redis_layer, transactional_db
):
    import json

    with time_machine.travel(local_at(10), tick=True):
        sitting = make_sitting(world)
        attempt, _ = started_attempt(world, sitting)
    cookie = staff_cookie(world.staff[Role.PROCTOR])
    event = {
        "type": "notice",
        "id": 1,
        "kind": "connection_lost",
        "attempt": str(attempt.public_id),
        "name": attempt.person.full_name,
    }

    async def scenario():
        ws = WebsocketCommunicator(
            application, f"/ws/sitting/{sitting.public_id}/", headers=[ORIGIN, (b"cookie", cookie)]
        )
        assert (await ws.connect())[0]
        subprocess.run(
            [
                sys.executable,
                "-c",
                OTHER_PROCESS,
                REDIS_URL,
                redis_layer,
                f"sitting.{sitting.public_id}",
                json.dumps(event),
            ],
            check=True,
            timeout=30,
        )
        received = await ws.receive_json_from(timeout=10)
        assert received["kind"] == "connection_lost"
        assert received["attempt"] == str(attempt.public_id)
        await ws.disconnect()

    async_to_sync(scenario)()


def test_a_proctor_of_another_sitting_hears_nothing_across_processes(
    world, redis_layer, transactional_db
):
    import json

    with time_machine.travel(local_at(10), tick=True):
        mine = make_sitting(world)
        other = make_sitting(world, students=world.students_b)
    cookie = staff_cookie(world.staff[Role.PROCTOR])

    async def scenario():
        ws = WebsocketCommunicator(
            application, f"/ws/sitting/{mine.public_id}/", headers=[ORIGIN, (b"cookie", cookie)]
        )
        assert (await ws.connect())[0]
        subprocess.run(
            [
                sys.executable,
                "-c",
                OTHER_PROCESS,
                REDIS_URL,
                redis_layer,
                f"sitting.{other.public_id}",
                json.dumps({"type": "notice", "kind": "x"}),
            ],
            check=True,
            timeout=30,
        )
        subprocess.run(
            [
                sys.executable,
                "-c",
                OTHER_PROCESS,
                REDIS_URL,
                redis_layer,
                f"sitting.{mine.public_id}",
                json.dumps({"type": "notice", "kind": "mine"}),
            ],
            check=True,
            timeout=30,
        )
        assert (await ws.receive_json_from(timeout=10))["kind"] == "mine"
        await ws.disconnect()

    async_to_sync(scenario)()
