"""Send live events to Channels groups after the surrounding transaction commits."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def send_now(group: str, event: dict[str, Any]) -> bool:
    """Send one event; a channel layer outage degrades live notices but never fails the caller."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception as exc:
        # The channel layer (Redis) is away; the pages catch up when it is back.
        log.warning("live event to %s not delivered: %s", group, exc.__class__.__name__)
        return False
    return True


def send_on_commit(group: str, event: dict[str, Any]) -> None:
    transaction.on_commit(lambda: send_now(group, event))
