"""Civic numbers never reach a URL, a log line or a list response — not even in a rejection."""

from __future__ import annotations

import json
import logging

import pytest
from rest_framework.test import APIClient

from schools.transfer.services import transfer_process
from schools.transfer.tokens import api_token_create
from tests.factories import OrganiserFactory
from tests.schools.transfer_helpers import small_document

pytestmark = pytest.mark.django_db

CIVIC = "201001012386"  # a valid personnummer


@pytest.fixture
def organiser():
    return OrganiserFactory()


@pytest.mark.parametrize(
    "civic_no",
    [
        {"value": int(CIVIC)},  # a number, not a string
        CIVIC,  # the bare value instead of {"value": ...}
        {"value": CIVIC, "nationality": 46},  # a wrong field beside a right value
        {"value": [CIVIC]},
    ],
    ids=["number", "bare-string", "bad-nationality", "list"],
)
def test_schema_errors_in_a_civic_number_do_not_quote_it(organiser, caplog, civic_no):
    # given a document whose person carries a malformed civic number
    doc = small_document()
    doc["persons"][0]["civicNo"] = civic_no
    caplog.set_level(logging.DEBUG)
    # when it is transferred
    report = transfer_process(organiser=organiser, document=json.dumps(doc))
    # then the person is rejected at that field, and the number is nowhere in report or logs
    assert report["status"] == "rejected"
    own = [r for r in report["rejected"] if r["type"] == "person"]
    assert own and {r["field"].split(".")[0] for r in own} == {"civicNo"}
    assert {r["id"] for r in own} == {doc["persons"][0]["id"]}
    assert CIVIC not in json.dumps(report)
    assert CIVIC not in caplog.text


def test_the_run_list_of_the_api_carries_no_civic_number(
    organiser, django_capture_on_commit_callbacks
):
    _token, plain = api_token_create(organiser=organiser, name="Elevregister")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    doc = small_document()
    doc["persons"][0]["civicNo"] = {"value": int(CIVIC)}
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v1/transfer/", data=json.dumps(doc), content_type="application/json")

    runs = client.get("/api/v1/transfer/runs/")

    assert runs.status_code == 200
    assert runs.json()[0]["status"] == "rejected"
    assert CIVIC not in runs.content.decode()


def test_an_invalid_civic_number_is_named_by_field_without_its_value(organiser, caplog):
    doc = small_document()
    doc["persons"][0]["civicNo"] = {"value": CIVIC[:-1] + "7"}  # wrong check digit
    caplog.set_level(logging.DEBUG)

    report = transfer_process(organiser=organiser, document=json.dumps(doc))

    assert [r["field"] for r in report["rejected"] if r["type"] == "person"] == ["civicNo.value"]
    assert CIVIC[:-1] not in json.dumps(report) and CIVIC[:-1] not in caplog.text
