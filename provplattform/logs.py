"""Log lines for conditions that last (a database or Redis outage): one line every few seconds
per kind, not one per request, socket or sweep."""

from __future__ import annotations

import logging
import threading
import time

EVERY_S = 5.0

_last: dict[str, float] = {}
_lock = threading.Lock()


def warn_every(log: logging.Logger, key: str, message: str, *args, every: float = EVERY_S) -> None:
    """log.warning(message, *args), unless a line of this key went out less than `every` ago."""
    now = time.monotonic()
    with _lock:
        if now - _last.get(key, float("-inf")) < every:
            return
        _last[key] = now
    log.warning(message, *args)
