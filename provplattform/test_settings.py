"""Settings of the test suite (pytest's DJANGO_SETTINGS_MODULE): the environment-driven settings
with the few changes tests need. Nothing in `settings` asks whether it runs under a test."""

import os

from provplattform.env import env_bool
from provplattform.settings import *  # noqa: F403

# Jobs run in-process, so a test sees their effect (CELERY_TASK_ALWAYS_EAGER=false to try a broker).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
# Tests create many users; the production hasher is kept for real deployments.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Parallel workers (pytest-xdist) share one Redis: each keeps its cache keys and channel groups
# to itself, as each has its own test database.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER and "KEY_PREFIX" in CACHES["default"]:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] += f"-{_WORKER}"  # noqa: F405
if _WORKER and "CONFIG" in CHANNEL_LAYERS["default"]:  # noqa: F405
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] += f"-{_WORKER}"  # noqa: F405
if _WORKER:
    PRESENCE_KEY_PREFIX += f"-{_WORKER}"  # noqa: F405
