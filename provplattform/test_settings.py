"""Settings of the test suite (pytest's DJANGO_SETTINGS_MODULE): the environment-driven settings
with the few changes tests need. Nothing in `settings` asks whether it runs under a test."""

from provplattform.env import env_bool
from provplattform.settings import *  # noqa: F403

# Jobs run in-process, so a test sees their effect (CELERY_TASK_ALWAYS_EAGER=false to try a broker).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
# Tests create many users; the production hasher is kept for real deployments.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
