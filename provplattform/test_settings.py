"""Settings of the test suite (pytest's DJANGO_SETTINGS_MODULE): the environment-driven settings
with the few changes tests need. Nothing in `settings` asks whether it runs under a test."""

import os

# Parallel workers (pytest-xdist) share one Redis: each keeps its cache keys, presence entries
# and channel groups to itself, as each has its own test database.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER:
    os.environ.setdefault("CACHE_KEY_PREFIX", f"pp-{_WORKER}")
    os.environ.setdefault("CHANNELS_PREFIX", f"pp-asgi-{_WORKER}")

from provplattform.env import env_bool  # noqa: E402
from provplattform.settings import *  # noqa: E402, F403

# Jobs run in-process, so a test sees their effect (CELERY_TASK_ALWAYS_EAGER=false to try a broker).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
# Tests create many users; the production hasher is kept for real deployments.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
