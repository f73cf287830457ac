"""The transfer endpoint for organiser systems: bearer tokens, runs, refusals."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from schools.models import OrganiserApiToken, Person, TransferRun
from schools.tasks import transfer_fail_stale
from schools.transfer.tokens import api_token_create, api_token_revoke
from tests.factories import OrganiserFactory
from tests.schools.transfer_helpers import small_document

pytestmark = pytest.mark.django_db
SUBMIT = "/api/v1/transfer/"


@pytest.fixture
def organiser():
    return OrganiserFactory()


@pytest.fixture
def token(organiser):
    return api_token_create(organiser=organiser, name="Elevregister")


def client_with(plain: str | None) -> APIClient:
    client = APIClient()
    if plain:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def submit(client: APIClient, body: str, capture):
    with capture(execute=True):
        return client.post(SUBMIT, data=body, content_type="application/json")


def test_post_queues_a_run_and_its_status_url_shows_the_report(
    token, organiser, django_capture_on_commit_callbacks
):
    _row, plain = token
    client = client_with(plain)

    response = submit(client, json.dumps(small_document()), django_capture_on_commit_callbacks)

    assert response.status_code == 202
    assert response["Location"] == response.json()["status_url"]
    status = client.get(response.json()["status_url"])
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "applied"
    assert body["progress"] == {"done": 20, "total": 20, "phase": "applied"}
    assert body["report"]["counts"]["persons"]["created"] == 5
    assert Person.objects.filter(organiser=organiser).count() == 5
    listed = client.get("/api/v1/transfer/runs/").json()
    assert [r["id"] for r in listed] == [response.json()["id"]]


def test_malformed_json_is_accepted_and_reported_by_the_run(
    token, django_capture_on_commit_callbacks
):
    client = client_with(token[1])

    response = submit(client, '{"persons": [}', django_capture_on_commit_callbacks)

    run = client.get(response.json()["status_url"]).json()
    assert run["status"] == "rejected"
    assert run["report"]["rejected"][0]["message"].startswith("Malformed JSON")


def test_a_document_that_is_not_utf8_is_refused_with_a_clear_message(
    token, organiser, django_capture_on_commit_callbacks
):
    client = client_with(token[1])
    body = json.dumps(small_document(), ensure_ascii=False).replace("Förnamn1", "F\udcf6rnamn1")
    latin1 = body.encode("utf-8", errors="surrogateescape")  # a lone 0xF6 byte, as latin-1 sends ö

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SUBMIT, data=latin1, content_type="application/json")

    assert response.status_code == 400
    position = latin1.index(b"\xf6")
    assert response.json()["detail"] == (
        f"The document is not valid UTF-8 (first invalid byte at position {position}). "
        "Send SS 12000 JSON encoded as UTF-8."
    )
    assert not TransferRun.objects.exists()
    assert not Person.objects.filter(organiser=organiser).exists()


def test_a_utf8_document_with_non_ascii_names_keeps_them(
    token, organiser, django_capture_on_commit_callbacks
):
    body = json.dumps(small_document(), ensure_ascii=False).encode("utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_with(token[1]).post(SUBMIT, data=body, content_type="application/json")

    assert response.status_code == 202
    assert Person.objects.get(organiser=organiser, external_id="s1").given_name == "Förnamn1"


def test_request_without_token_is_refused():
    response = client_with(None).post(SUBMIT, data="{}", content_type="application/json")

    assert response.status_code == 401
    assert not TransferRun.objects.exists()


def test_wrong_token_is_refused(token):
    plain = token[1]
    forged = plain[:-4] + ("aaaa" if not plain.endswith("aaaa") else "bbbb")

    response = client_with(forged).post(SUBMIT, data="{}", content_type="application/json")

    assert response.status_code == 401
    assert not TransferRun.objects.exists()


def test_revoked_token_is_refused(token):
    row, plain = token
    api_token_revoke(token=row)

    response = client_with(plain).post(SUBMIT, data="{}", content_type="application/json")

    assert response.status_code == 401


def test_a_session_user_cannot_use_the_endpoint(world):
    client = APIClient()
    client.force_login(world.staff["head_teacher"])

    response = client.post(SUBMIT, data="{}", content_type="application/json")

    assert response.status_code in (401, 403)
    assert not TransferRun.objects.exists()


def test_another_organisers_run_answers_404(token, django_capture_on_commit_callbacks):
    response = submit(client_with(token[1]), "{}", django_capture_on_commit_callbacks)
    _other_row, other_plain = api_token_create(organiser=OrganiserFactory(), name="Annan")

    other = client_with(other_plain)

    assert other.get(response.json()["status_url"]).status_code == 404
    assert other.get("/api/v1/transfer/runs/").json() == []


def test_only_the_hash_of_a_token_is_stored(token):
    row, plain = token

    stored = OrganiserApiToken.objects.get(pk=row.pk)

    assert plain not in (stored.token_hash, stored.prefix)
    assert plain.startswith(f"pp_{stored.prefix}_")
    assert len(stored.token_hash) == 64


def test_management_command_prints_a_working_token(organiser, capsys):
    call_command("create_api_token", organiser.external_id, "Skolsystem")

    plain = capsys.readouterr().out.strip().splitlines()[-1]
    response = client_with(plain).get("/api/v1/transfer/runs/")
    assert response.status_code == 200


def test_openapi_schema_describes_the_transfer_endpoint(world):
    client = APIClient()
    client.force_login(world.staff["head_teacher"])

    schema = client.get(reverse("api-schema"), {"format": "json"}).json()

    assert "post" in schema["paths"]["/api/v1/transfer/"]
    assert "get" in schema["paths"]["/api/v1/transfer/runs/{public_id}/"]
    assert schema["components"]["securitySchemes"]["organiserToken"]["scheme"] == "bearer"


@pytest.mark.parametrize("body", [json.dumps(small_document()), '{"persons": [}'])
def test_a_finished_run_keeps_its_report_but_not_the_document(
    token, django_capture_on_commit_callbacks, body
):
    # given an applied run and a rejected one
    response = submit(client_with(token[1]), body, django_capture_on_commit_callbacks)
    # then neither keeps the document, civic numbers and all, once it is done
    run = TransferRun.objects.get(public_id=response.json()["id"])
    assert run.status in ("applied", "rejected")
    assert run.report
    assert run.payload == {}


def test_a_failed_run_keeps_its_document_so_the_cause_can_be_found(
    token, organiser, django_capture_on_commit_callbacks, monkeypatch
):
    from schools.transfer import services

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "transfer_process", broken)
    response = submit(
        client_with(token[1]), json.dumps(small_document()), django_capture_on_commit_callbacks
    )
    run = TransferRun.objects.get(public_id=response.json()["id"])
    assert run.status == "failed"
    assert run.payload["text"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("nb", "Ukjent nøkkel; forventet"), ("sv", "Okänd nyckel; förväntade"), ("en", "Unknown key")],
)
def test_the_reasons_are_written_in_the_submitters_language(
    token, django_capture_on_commit_callbacks, language, expected
):
    # given a system that asks for Norwegian, Swedish or English
    client = client_with(token[1])
    with django_capture_on_commit_callbacks() as queued_jobs:
        response = client.post(
            SUBMIT,
            data=json.dumps({"pupils": []}),
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
    # when the job runs in a worker whose own language is another one
    with translation.override("en" if language != "en" else "sv"):
        for job in queued_jobs:
            job()
    # then the reasons are in the submitter's language
    run = client.get(response.json()["status_url"]).json()
    assert run["status"] == "rejected"
    assert run["report"]["rejected"][0]["message"].startswith(expected)


def test_a_run_the_job_queue_cannot_take_fails_at_once_saying_nothing_was_applied(
    token, organiser, broker_away, django_capture_on_commit_callbacks
):
    # given Redis is down
    client = client_with(token[1])
    # when the organiser's system sends a document
    response = submit(client, json.dumps(small_document()), django_capture_on_commit_callbacks)
    # then its run says it failed, why, and that nothing was applied
    assert response.status_code == 202
    shown = client.get(response.json()["status_url"]).json()
    assert shown["status"] == "failed" and shown["report"]["code"] == "not_queued"
    assert "nothing was applied" in shown["report"]["error"]
    assert not Person.objects.filter(organiser=organiser).exists()
    assert TransferRun.objects.get().payload == {}


def test_a_run_stuck_running_for_an_hour_is_shown_failed_with_its_reason(token, organiser):
    # given a run whose worker died an hour and a half ago, and one that started a minute ago
    now = timezone.now()
    stuck = TransferRun.objects.create(
        organiser=organiser,
        source="api",
        status="running",
        started_at=now - datetime.timedelta(minutes=90),
    )
    busy = TransferRun.objects.create(
        organiser=organiser,
        source="api",
        status="running",
        started_at=now - datetime.timedelta(minutes=1),
    )
    client = client_with(token[1])

    # when the organiser's system asks for the runs
    listed = {r["id"]: r for r in client.get("/api/v1/transfer/runs/").json()}
    shown = client.get(f"/api/v1/transfer/runs/{stuck.public_id}/").json()

    # then the stuck one is failed, saying why; the busy one is still running
    assert shown["status"] == "failed"
    assert shown["report"]["code"] == "worker_lost"
    assert "nothing was applied" in shown["report"]["error"]
    assert listed[str(busy.public_id)]["status"] == "running"
    stuck.refresh_from_db()
    assert stuck.finished_at is not None


def test_the_periodic_job_fails_stuck_runs(organiser):
    stuck = TransferRun.objects.create(
        organiser=organiser,
        source="api",
        status="running",
        started_at=timezone.now() - datetime.timedelta(hours=2),
    )

    transfer_fail_stale.delay()

    stuck.refresh_from_db()
    assert stuck.status == "failed"
    assert stuck.report["code"] == "worker_lost"


def test_the_run_list_gives_totals_not_reports_and_the_run_pages_its_rejections(
    token, organiser, django_capture_on_commit_callbacks
):
    client = client_with(token[1])
    document = small_document()
    for person in document["persons"]:
        person["civicNo"] = {"value": "not a number"}
    response = submit(client, json.dumps(document), django_capture_on_commit_callbacks)

    (listed,) = client.get("/api/v1/transfer/runs/").json()
    assert "report" not in listed
    page = client.get(response.json()["status_url"] + "?offset=1&limit=2").json()
    assert listed["rejected_count"] == page["report"]["rejected_total"] >= 5
    assert len(page["report"]["rejected"]) == 2
    for odd in ("²", "-1", "x", "9" * 30):  # the first page, never a 500
        assert client.get(response.json()["status_url"] + f"?offset={odd}").status_code == 200
