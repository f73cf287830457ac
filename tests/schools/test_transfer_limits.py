"""Transfers reject, never fail: a value the database cannot store (a NUL, a lone surrogate, a
value longer than its column) rejects the run, naming the record and the field."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schools.models import Person, SchoolUnit, TransferRun
from schools.transfer.limits import STORED_FIELDS, max_length
from schools.transfer.services import transfer_process
from schools.transfer.tokens import api_token_create
from tests.factories import OrganiserFactory
from tests.schools.transfer_helpers import small_document

pytestmark = pytest.mark.django_db

# Where each stored field sits in the small document: (kind, index of the record).
RECORD = {"organisations": 0, "persons": 3, "groups": 0, "duties": 0, "activities": 0}


def _put(record: dict, path: str, value: str) -> str:
    """Set `value` at `path` ("*" = the first item) in `record`; the concrete path set."""
    parts, node, concrete = path.split("."), record, []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        key: str | int = 0 if part == "*" else part
        if part == "*":
            while len(node) < 1:
                node.append({} if not last else "")
        elif not last and part not in node:
            node[part] = [] if parts[index + 1] == "*" else {}
        concrete.append(str(key))
        if last:
            node[key] = value
        else:
            node = node[key]
    return ".".join(concrete)


def _rejections(document) -> tuple[str, list[dict]]:
    organiser = OrganiserFactory()
    report = transfer_process(organiser=organiser, document=document)
    return report["status"], report.get("rejected", [])


FIELDS = [(kind, path) for kind, paths in STORED_FIELDS.items() for path in paths]


@pytest.mark.parametrize(("kind", "path"), FIELDS)
def test_a_value_longer_than_its_column_rejects_the_record_naming_the_field(kind, path):
    document = small_document()
    record = document[kind][RECORD[kind]]
    limit = max_length(STORED_FIELDS[kind][path])
    field = _put(record, path, "x" * (limit + 1))
    status, rejected = _rejections(document)
    assert status == "rejected"
    # named by the record's field (a field the schema restricts may give the schema's reason)
    assert any(r["field"] == field for r in rejected), rejected


bad_text = st.builds(
    lambda head, bad, tail: head + bad + tail,
    st.text(max_size=5),
    st.sampled_from(["\x00", "\ud800", "\udfff"]),
    st.text(max_size=5),
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(field=st.sampled_from(FIELDS), value=bad_text)
def test_text_the_database_cannot_store_rejects_the_record_naming_the_field(field, value):
    kind, path = field
    document = small_document()
    record = document[kind][RECORD[kind]]
    concrete = _put(record, path, value)
    status, rejected = _rejections(document)
    assert status == "rejected"
    assert any(r["field"] == concrete for r in rejected), rejected


def test_a_nul_in_a_name_sent_to_the_api_rejects_the_run(
    client, django_capture_on_commit_callbacks
):
    organiser = OrganiserFactory()
    _token, plain = api_token_create(organiser=organiser, name="Elevregister")
    document = small_document()
    document["persons"][0]["givenName"] = "Ada\u0000"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/transfer/",
            data=json.dumps(document),
            content_type="application/json",
            headers={"Authorization": f"Bearer {plain}"},
        )
    assert response.status_code == 202
    run = TransferRun.objects.get()
    assert run.status == "rejected"
    named = [(r["id"], r["field"], r["message"]) for r in run.report["rejected"]]
    assert ("s1", "givenName", "Text may not contain a NUL character.") in named, named
    assert not Person.objects.exists()


def test_a_raw_nul_in_the_api_body_is_a_clear_400(client):
    organiser = OrganiserFactory()
    _token, plain = api_token_create(organiser=organiser, name="Elevregister")
    response = client.post(
        "/api/v1/transfer/",
        data='{"persons": [{"id": "a\x00"}]}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code == 400
    assert not TransferRun.objects.exists()


def test_a_school_unit_code_over_its_length_is_rejected_not_applied():
    document = small_document(code="4" * 25)
    status, rejected = _rejections(document)
    assert status == "rejected"
    assert rejected[0]["field"] == "schoolUnitCode"
    assert not SchoolUnit.objects.filter(school_unit_code__startswith="444").exists()
