"""Each class of bad input is caught at its one place and answered with a clear 4xx."""

from __future__ import annotations

import json
import uuid

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery.models import Attempt
from delivery.save_api import BadSave, parse_saves
from provplattform.inputs import JSON_MAX_DEPTH, JSONRefused, loads_json, text_problem
from schools.models import OrganiserAdministrator
from schools.roles import Role
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt
from tests.factories import UserFactory

bad_strings = st.builds(
    lambda head, bad, tail: head + bad + tail,
    st.text(max_size=8),
    st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]),
    st.text(max_size=8),
)


@given(
    st.recursive(st.none() | st.booleans() | st.integers(-(10**9), 10**9), st.lists, max_leaves=40)
)
def test_well_formed_json_within_the_limits_is_read_as_it_is(value):
    depth = 0
    node = value
    while isinstance(node, list):
        depth, node = depth + 1, node[0] if node else None
    text = json.dumps(value)
    if depth <= JSON_MAX_DEPTH:
        assert loads_json(text) == value


@given(depth=st.integers(JSON_MAX_DEPTH + 1, 100_000), kind=st.sampled_from("[{"))
def test_json_nested_too_deep_is_refused_never_a_recursion_error(depth, kind):
    text = "[" * depth + "]" * depth if kind == "[" else '{"a":' * depth + "1" + "}" * depth
    with pytest.raises(JSONRefused):
        loads_json(text)


@given(digits=st.integers(25, 20_000), kind=st.sampled_from(["int", "float", "exp"]))
def test_numbers_with_too_many_digits_are_refused(digits, kind):
    number = {"int": "9" * digits, "float": "1." + "5" * digits, "exp": "1e" + "9" * digits}[kind]
    with pytest.raises(JSONRefused):
        loads_json('{"n": ' + number + "}")


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999", "[1e400]"])
def test_numbers_json_does_not_have_are_refused(text):
    with pytest.raises(JSONRefused):
        loads_json(text)


@given(value=bad_strings, as_key=st.booleans())
def test_text_that_cannot_be_stored_is_refused_in_values_and_keys(value, as_key):
    document = {value: 1} if as_key else {"a": [value]}
    assert text_problem(value)
    with pytest.raises(JSONRefused):
        loads_json(json.dumps(document))


# --- at the edges --------------------------------------------------------------------------------

DEEP = "[" * 5000 + "]" * 5000
BODIES = {
    "deep": DEEP,
    "long number": '{"name": ' + "9" * 5000 + "}",
    "nan": '{"name": NaN}',
    "nul": '{"name": "Rum\\u0000"}',
    "surrogate": '{"name": "Rum\\ud800"}',
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_the_api_answers_bad_json_with_a_400(client, world, body):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    response = client.post(
        f"/api/v1/units/{world.unit.public_id}/rooms/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.fixture
def ten_o_clock():
    with time_machine.travel(local_at(10), tick=False):
        yield


@pytest.mark.parametrize("content", BODIES.values(), ids=BODIES.keys())
def test_the_autosave_route_answers_bad_json_with_a_400(client, world, ten_o_clock, content):
    sitting = make_sitting(world)
    attempt, token = started_attempt(world, sitting)
    item = str(sitting.subtest.items.first().public_id)
    body = '{"saves": [{"item": "' + item + '", "seq": 1, "content": ' + content + "}]}"
    response = client.post(
        f"/api/v1/delivery/attempts/{attempt.public_id}/saves",
        body,
        content_type="application/json",
        headers={"X-Device-Token": token},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


@pytest.mark.parametrize("content", BODIES.values(), ids=BODIES.keys())
def test_both_autosave_paths_parse_with_the_same_limits(content):
    # The PostgreSQL route (delivery.save_api.handle_save) and the Django view share parse_saves.
    body = (
        '{"saves": [{"item": "' + str(uuid.uuid4()) + '", "seq": 1, "content": ' + content + "}]}"
    )
    with pytest.raises(BadSave):
        parse_saves(body.encode())


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/units/{unit}/students/", "q"),
        ("/api/v1/units/{unit}/students/", "search"),
        ("/units/{unit}/prepare/sittings/", "room"),
    ],
)
def test_a_nul_in_a_query_string_is_a_400(client, world, path, param):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    response = client.get(path.format(unit=world.unit.public_id), {param: "Ek\x00"})
    assert response.status_code == 400


def test_a_nul_in_a_removal_reason_is_a_400(client, world):
    from tests.factories import AdjustmentFactory, SubtestFactory

    client.force_login(world.staff[Role.HEAD_TEACHER])
    adjustment = AdjustmentFactory(
        school_unit=world.unit,
        person=world.students_a[0],
        test=SubtestFactory().test,
        decided_by=world.staff[Role.HEAD_TEACHER].person,
    )
    response = client.delete(
        f"/api/v1/units/{world.unit.public_id}/adjustments/{adjustment.public_id}/?reason=a%00b"
    )
    assert response.status_code == 400


def test_a_nul_in_a_form_field_is_a_400_page_with_the_reason(client, world):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    response = client.post(
        f"/units/{world.unit.public_id}/prepare/rooms/", {"name": "Rum\x00", "capacity": "30"}
    )
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_malformed_attempt_id_in_a_proctor_action_is_not_found(client, world):
    sitting = make_sitting(world)
    client.force_login(world.staff[Role.PROCTOR])
    for attempt in ("not-a-uuid", "0" * 40, str(uuid.uuid4())):
        response = client.post(
            f"/proctor/sittings/{sitting.public_id}/actions/pause/", {"attempt": attempt}
        )
        assert response.status_code == 404, attempt
    assert not Attempt.objects.filter(status="paused").exists()


def test_a_malformed_upload_target_is_not_found(client, world):
    admin = UserFactory(username="orgadmin")
    OrganiserAdministrator.objects.create(user=admin, organiser=world.unit.organiser)
    client.force_login(admin)
    response = client.post("/transfer/upload/", {"target": "unit:not-a-uuid"})
    assert response.status_code == 404


@pytest.mark.parametrize("minutes", [10**20, 10**10, 601])
def test_extended_time_beyond_its_limit_is_a_400(client, world, minutes):
    from tests.factories import SubtestFactory

    client.force_login(world.staff[Role.HEAD_TEACHER])
    test = SubtestFactory().test
    response = client.post(
        f"/api/v1/units/{world.unit.public_id}/adjustments/",
        {
            "student": str(world.students_a[0].public_id),
            "test": str(test.public_id),
            "extended_minutes": minutes,
            "decided_by": str(world.staff[Role.HEAD_TEACHER].person.public_id),
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "extended_minutes" in response.json()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=bad_strings)
def test_generated_unstorable_text_in_an_api_body_is_a_400(client, world, value):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    response = client.post(
        f"/api/v1/units/{world.unit.public_id}/rooms/",
        json.dumps({"name": value, "capacity": 10}),
        content_type="application/json",
    )
    assert response.status_code == 400


@pytest.mark.parametrize("params", [{"limit": "9" * 25}, {"offset": "9" * 25}, {"limit": "5000"}])
def test_a_page_beyond_any_number_is_a_page_not_an_error(client, world, params):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    response = client.get(f"/api/v1/units/{world.unit.public_id}/students/", params)
    assert response.status_code == 200
    assert len(response.json()["results"]) <= 1000
