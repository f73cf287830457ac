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
def world(db):
    return build_world()


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
def shared_world(module_db):
    """The standard world, built once per module (see `module_db`)."""
    return build_world()
