import copy

import pytest
from django.db import transaction

from provplattform.celery import app as celery_app
from tests.world import build_world


@pytest.fixture(autouse=True)
def english_messages(request):
    """Assertions read the English source strings; the interface itself defaults to Swedish.

    A test marked `configured_language` keeps the language the settings give, to prove that
    default (see tests/provplattform/test_translations.py).
    """
    if request.node.get_closest_marker("configured_language"):
        yield
        return
    settings = request.getfixturevalue("settings")
    settings.LANGUAGE_CODE = "en"
    yield


@pytest.fixture
def broker_away():
    """Celery publishes to a broker that refuses connections (Redis down), instead of running
    jobs in-process: what `provplattform.jobs.enqueue_on_commit` meets during an outage."""
    conf = celery_app.conf
    kept = {key: conf[key] for key in ("broker_url", "task_always_eager")}
    conf.update(broker_url="redis://127.0.0.1:1/0", task_always_eager=False)
    celery_app.amqp._producer_pool = None  # the pool is made for the broker of its first use
    yield
    conf.update(kept)
    celery_app.amqp._producer_pool = None


@pytest.fixture
def world(_module_world, db):
    """The standard world, for a test that may change it.

    Built once per module and copied for each test: what the test writes to the database is
    rolled back with its savepoint, and the copy keeps its changes to the objects from the next
    test. In a module where another test would see it or a test commits, it is built for each
    test instead (see `_module_world`)."""
    if _module_world is None:
        return build_world()
    return copy.deepcopy(_module_world)


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """One transaction around a whole test module, rolled back after its last test.

    Data a module-scoped fixture builds on top of it is built once and shared by the module's
    tests; each test still runs in its own savepoint (mark it `django_db`), so what a test writes
    is gone before the next one. Only for tests that treat the shared data as read-only.
    """
    with django_db_blocker.unblock():
        block = transaction.atomic()
        block.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            block.__exit__(None, None, None)


@pytest.fixture(scope="module")
def shared_world(_module_world, module_db):
    """The standard world, built once per module (see `module_db`), for tests that only read it
    (the same objects for every test, not copied)."""
    return _module_world if _module_world is not None else build_world()


DB_FIXTURES = (
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
)
WORLD_FIXTURES = ("world", "shared_world")


def _may_share_the_world(item) -> bool:
    """Whether a test allows the standard world to exist for its whole module: it takes the world
    itself, or it does not touch the database. A test that commits (a transactional one) never
    does, as no transaction may stay open around it."""
    marker = item.get_closest_marker("django_db")
    names = getattr(item, "fixturenames", ())
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return False
    if any(name in names for name in ("transactional_db", "live_server")):
        return False
    uses_db = marker is not None or any(name in names for name in DB_FIXTURES)
    return not uses_db or any(name in names for name in WORLD_FIXTURES)


@pytest.fixture(scope="module")
def _module_world(request):
    """The standard world built once for the module (see `module_db`), or None where a test of the
    module would see it without asking for it, or commits: there it is built for each test."""
    module = request.module
    if not all(
        _may_share_the_world(item) for item in request.session.items if item.module is module
    ):
        return None
    request.getfixturevalue("module_db")
    return build_world()
