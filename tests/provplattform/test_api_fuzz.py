"""Schemathesis over /api/schema/: every API operation, called by a user of each role (and by the
organiser's system with its token) with requests generated from the schema — valid ones and ones
that break it — answers without a server error, and what it answers conforms to the schema.

Ids in the path are, most of the time, those of real objects of the actor's unit, so that the
generated bodies reach the services and not only the 404 of an unknown id.
"""

from __future__ import annotations

import contextlib
import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from exams.models import Programme
from schools.models import OrganiserAdministrator
from schools.roles import Role
from schools.transfer.tokens import api_token_create
from tests.factories import SubtestFactory, UserFactory
from tests.schools.test_api_isolation import _seed_unit

# Generated cases per operation, role and mode: about 1,000 requests in all, a minute or two.
EXAMPLES = 4
ROLES = ["head_teacher", "test_administrator", "proctor", "teacher", "operator", "organiser"]
CSRF = "a" * 32  # an unmasked CSRF secret, sent as cookie and header
CASES: dict[str, int] = {}


@pytest.fixture
def api_world(world):
    subtest = SubtestFactory()
    own = _seed_unit(world.unit, subtest, SubtestFactory(test__programme=Programme.NO_MAPPING))
    admin = UserFactory(username="orgadmin")
    OrganiserAdministrator.objects.create(user=admin, organiser=world.unit.organiser)
    _token, plain = api_token_create(organiser=world.unit.organiser, name="Elevregister")
    users = {role.value: world.staff[role] for role in Role}
    users["operator"] = UserFactory(username="operator", is_platform_operator=True)
    users["organiser"] = admin
    ids = {
        "unit": world.unit.public_id,
        "room": own["room"].public_id,
        "sitting": own["sitting"].public_id,
        "student": own["student"].public_id,
        "person": own["proctor"].public_id,
        "assignment": own["assignment"].public_id,
        "adjustment": own["adjustment"].public_id,
        "exemption": own["exemption"].public_id,
        "test": subtest.test.public_id,
    }
    return users, ids, plain


@contextlib.contextmanager
def _wsgi_app():
    """Django's WSGI handler, keeping the test's connection (and transaction) across requests,
    as Django's test client does (which reconnects the signals after each of its requests: so
    no test client request may run inside this block)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _transaction_aborted() -> bool:
    raw = getattr(connection, "connection", None)
    info = getattr(raw, "info", None)
    return info is not None and info.transaction_status.name == "INERROR"


def _local_times(node):
    """DRF writes a time of day as a local wall-clock time ("08:00"), which OpenAPI calls format
    "time" but JSON Schema's "time" wants with a zone offset: checked as a plain string here."""
    if isinstance(node, dict):
        if node.get("format") == "time":
            node = {k: v for k, v in node.items() if k != "format"}
        return {k: _local_times(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_local_times(v) for v in node]
    return node


def _schema(client) -> dict:
    return _local_times(json.loads(client.get("/api/schema/", {"format": "json"}).content))


@pytest.mark.parametrize("role", ROLES)
def test_every_api_operation_answers_generated_requests_without_a_server_error(
    client, api_world, role
):
    users, ids, token = api_world
    client.force_login(users[role])
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF}
    headers = {"X-CSRFToken": CSRF, "Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_dict(_schema(client))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    with _wsgi_app() as app:
        for operation in operations:
            _fuzz(operation, ids, role, app, headers, cookies)
    print(f"\n{role}: {CASES[role]} generated requests over {len(operations)} operations")


def _fuzz(operation, ids, role, app, headers, cookies) -> None:
    """A few generated requests for one operation; ids of the own unit most of the time."""
    names = {p.name for p in operation.path_parameters}
    known = {name: str(ids[name]) for name in names if name in ids}
    strategies = [
        operation.as_strategy(generation_mode=mode, path_parameters=fixed)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for fixed in ([known, None] if known else [None])
    ]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def call(case):
        CASES[role] = CASES.get(role, 0) + 1
        response = case.call(app=app, headers=headers, cookies=cookies)
        # A database error swallowed by a handler would poison every later request.
        assert not _transaction_aborted(), (case.method, case.formatted_path, case.body)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    call()
