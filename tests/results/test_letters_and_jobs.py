"""Parent letters as PDF and exports made by a worker: only the requester downloads, for a day."""

import datetime
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from exams.models import Subtest
from provplattform.models import AuditEvent
from results import jobs
from results.models import ExportJob, Measure, MeasureKind
from results.services import results_compute
from schools.roles import Role
from tests.factories import PASSWORD
from tests.results.helpers import score

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _letters(client, world, sat, *, data=None):
    rs = sat[world.unit]
    base = f"/units/{world.unit.public_id}/results/{rs.public_id}/"
    return client.post(f"{base}groups/{world.group_a.public_id}/letters/", data or {})


def test_group_letters_hold_each_students_results_and_measures_and_no_other_name(
    client, world, sat, django_capture_on_commit_callbacks
):
    # given every student of group A is below in L1; the first has a measure recorded
    below = world.students_a[0]
    subtest = Subtest.objects.get(test=sat[world.unit].test, code="L1")
    Measure.objects.create(
        school_unit=world.unit, person=below, subtest=subtest,
        kind=MeasureKind.objects.filter(organiser__isnull=True).first(),
        starts_on=datetime.date(2027, 4, 12), note="Lesegruppe",
    )  # fmt: skip
    client.login(username=world.staff[Role.TEACHER].username, password=PASSWORD)
    # when the teacher makes the group's letters, below only, in Bokmål
    with django_capture_on_commit_callbacks(execute=True):
        response = _letters(client, world, sat, data={f"language-{below.public_id}": "nb"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.status == "done" and job.total == job.done
    download = client.get(f"/units/{world.unit.public_id}/results/jobs/{job.public_id}/download/")
    pages = [
        page.extract_text().replace("\n", " ")
        for page in PdfReader(io.BytesIO(b"".join(download.streaming_content))).pages
    ]
    # then one letter per student of the group, each naming only its own student
    assert len(pages) == 3
    everyone = world.students_a + world.students_b
    named = {}
    for text in pages:
        names = [p.full_name for p in everyone if p.full_name in text]
        assert len(names) == 1
        named[names[0]] = text
        assert "av 7" in text or "of 7" in text  # the points, in plain words
    assert set(named) == {p.full_name for p in world.students_a}
    # the first student's in Bokmål, with the results and the measure the school chose
    assert "Lesegruppe" in named[below.full_name] and "bekymringsgrensen" in named[below.full_name]
    assert "Lesegruppe" not in named[world.students_a[1].full_name]
    event = AuditEvent.objects.filter(action="results.letters_generated").get()
    assert event.after["students"] == 3


def test_letters_in_swedish_and_english_by_choice(
    client, world, sat, django_capture_on_commit_callbacks
):
    below = world.students_a[0]
    client.login(username=world.staff[Role.HEAD_TEACHER].username, password=PASSWORD)
    for language, phrase in (("sv", "Resultat för"), ("en", "Results of")):
        with django_capture_on_commit_callbacks(execute=True):
            _letters(client, world, sat, data={f"language-{below.public_id}": language})
        job = ExportJob.objects.latest("id")
        text = _pdf_text(job.file.read())
        assert phrase in text, language


def test_a_job_is_only_for_its_requester_and_only_for_a_day(
    client, world, sat, django_capture_on_commit_callbacks
):
    client.login(username=world.staff[Role.HEAD_TEACHER].username, password=PASSWORD)
    rs = sat[world.unit]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/units/{world.unit.public_id}/results/{rs.public_id}/exports/", {"kind": "xlsx"}
        )
    job = ExportJob.objects.get()
    url = f"/units/{world.unit.public_id}/results/jobs/{job.public_id}/download/"
    assert response.status_code == 302 and client.get(url).status_code == 200
    # another head teacher of the same unit does not see it
    client.login(username=world.staff[Role.SCHOOL_ADMINISTRATOR].username, password=PASSWORD)
    assert client.get(url).status_code == 404
    # after a day it is gone for the requester too
    client.login(username=world.staff[Role.HEAD_TEACHER].username, password=PASSWORD)
    ExportJob.objects.filter(pk=job.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert client.get(url).status_code == 404
    assert jobs.expired_jobs_remove() == 1


def test_large_export_runs_as_a_job_and_the_page_says_when_a_newer_version_exists(
    client, world, sat, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(jobs, "ASYNC_ROWS", 2)
    client.login(username=world.staff[Role.HEAD_TEACHER].username, password=PASSWORD)
    rs = sat[world.unit]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(f"/units/{world.unit.public_id}/results/{rs.public_id}/export.csv")
    assert response.status_code == 302
    job = ExportJob.objects.get()
    page = f"/units/{world.unit.public_id}/results/jobs/{job.public_id}/"
    assert "newer version" not in client.get(page).content.decode()
    # a correction after the export: a new results version
    attempt = world.students_a[0].attempts.filter(sitting__subtest__code="L1").get()
    score(attempt, [1] * 7)
    results_compute(school_unit=world.unit, test=rs.test)
    body = client.get(page).content.decode()
    assert "Made from results version 1; a newer version (2) exists." in body


def test_a_teacher_who_left_the_group_gets_no_queued_letters(client, world, sat):
    from schools.services import permissions_sync

    client.login(username=world.staff[Role.TEACHER].username, password=PASSWORD)
    _letters(client, world, sat)  # queued; the worker has not run yet
    teacher = world.staff[Role.TEACHER]
    world.group_a.teachers.remove(teacher.person)
    permissions_sync(person=teacher.person, school_unit=world.unit)
    job = jobs.export_job_run(job_id=ExportJob.objects.get().pk)
    assert job.status == "failed" and not job.file


def test_a_large_export_is_made_in_place_while_the_job_queue_is_down(
    client, world, sat, monkeypatch, broker_away, django_capture_on_commit_callbacks
):
    # given Redis is down and the export is large enough to be a job
    monkeypatch.setattr(jobs, "ASYNC_ROWS", 2)
    client.login(username=world.staff[Role.HEAD_TEACHER].username, password=PASSWORD)
    rs = sat[world.unit]
    # when the head teacher asks for it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(f"/units/{world.unit.public_id}/results/{rs.public_id}/export.csv")
    # then the job page offers the file at once, instead of a job nobody will run
    job = ExportJob.objects.get()
    page = f"/units/{world.unit.public_id}/results/jobs/{job.public_id}/"
    assert response.status_code == 302 and response["Location"] == page
    assert job.status == "done" and "Download" in client.get(page).content.decode()
    assert client.get(f"{page}download/").status_code == 200
