"""Building blocks for the presence, consumer, proctor and IT tests."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import channel_layers

from delivery import consumers
from delivery.models import Attempt
from delivery.presence import MemoryBackend, Presence, PresenceStore, set_store

IN_MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def store(settings):
    """A fresh in-process presence store, an in-memory channel layer, a 0.5 s close hold."""
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    settings.PRESENCE_REDIS_URL = ""
    channel_layers.backends.clear()
    fresh = PresenceStore(MemoryBackend(), "test")
    set_store(fresh)
    yield fresh
    set_store(None)
    channel_layers.backends.clear()


def presence_of(attempt: Attempt) -> Presence:
    return Presence.of(attempt)


async def announced() -> None:
    """Wait until every close announcement scheduled by a consumer has run."""
    while consumers._pending:
        await asyncio.gather(*list(consumers._pending), return_exceptions=True)
