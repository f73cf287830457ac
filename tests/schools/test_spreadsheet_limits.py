"""Spreadsheets cannot exhaust the server: the archive is checked before any XML is parsed,
parsing happens in the worker, and a run's report stays bounded."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from schools.models import OrganiserAdministrator, TransferRun, TransferStatus
from schools.transfer import xlsx
from schools.transfer.services import MAX_REPORTED_REJECTIONS
from tests.factories import UserFactory
from tests.schools.test_transfer_pages import XLSX, unit_rows, workbook_bytes
from tests.zip_helpers import understate_entry

ROW = b"<row><c><v>1</v></c></row>"


def _with_sheet(sheet: bytes | None = None, *, stream_mb: int = 0, understate: bool = False):
    """A real workbook whose students sheet is replaced: by `sheet`, or by `stream_mb` MB of
    rows written in pieces (memory stays small); `understate` makes the entry's headers claim
    100 bytes."""
    source = zipfile.ZipFile(io.BytesIO(xlsx.build_template(with_examples=False)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet3.xml":
                target.writestr(info, source.read(info))
            elif sheet is not None:
                target.writestr(info.filename, sheet)
            else:
                chunk = ROW * (2**20 // len(ROW))
                with target.open(info.filename, "w", force_zip64=False) as handle:
                    for _ in range(stream_mb):
                        handle.write(chunk)
    data = out.getvalue()
    if understate:
        data = understate_entry(data, "xl/worksheets/sheet3.xml")
    return data


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    same = b"<sheetData>" + ROW * 200_000 + b"</sheetData>"
    numbered = (
        b"<sheetData>" + b"".join(b'<row r="%d"/>' % n for n in range(200_000)) + b"</sheetData>"
    )
    return {
        "rows": _with_sheet(b'<worksheet xmlns="x">' + numbered + b"</worksheet>"),
        "same_rows": _with_sheet(b'<worksheet xmlns="x">' + same + b"</worksheet>"),
        "size": _with_sheet(stream_mb=400),
        "understated": _with_sheet(stream_mb=400, understate=True),
    }


def _refusal(data: bytes) -> tuple[str, float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        xlsx.check_archive(data)
    except xlsx.XlsxRefused as refusal:
        message = str(refusal)
    else:
        message = ""
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return message, seconds, peak


@pytest.mark.parametrize(
    ("bomb", "reason"),
    [
        ("rows", "more than 100,000 rows"),
        ("same_rows", "compressed suspiciously well"),
        ("size", "unpacks to more than 60 MB"),
        ("understated", "Not a readable .xlsx file."),
    ],
)
def test_a_spreadsheet_bomb_is_refused_fast_with_little_memory(bombs, bomb, reason):
    message, seconds, peak = _refusal(bombs[bomb])
    print(
        f"\n{bomb}: {len(bombs[bomb]) // 1024} KB refused in {seconds * 1000:.0f} ms, "
        f"peak {peak / 2**20:.1f} MB"
    )
    assert reason in message
    assert seconds < 1.0
    assert peak < 8 * 2**20


def test_a_sheet_compressed_suspiciously_well_is_refused():
    sheet = b'<worksheet xmlns="x"><sheetData>' + b" " * 30 * 2**20 + b"</sheetData></worksheet>"
    with pytest.raises(xlsx.XlsxRefused, match="suspiciously well"):
        xlsx.check_archive(_with_sheet(sheet))


def test_a_workbook_with_too_many_sheets_is_refused():
    source = zipfile.ZipFile(io.BytesIO(xlsx.build_template()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        for n in range(10, 20):
            target.writestr(f"xl/worksheets/sheet{n}.xml", b"<worksheet/>")
    with pytest.raises(xlsx.XlsxRefused, match="more than 8 sheets"):
        xlsx.check_archive(out.getvalue())


@pytest.fixture
def organiser_admin(world):
    admin = UserFactory(username="orgadmin")
    OrganiserAdministrator.objects.create(user=admin, organiser=world.unit.organiser)
    return admin


def test_the_upload_page_refuses_a_bomb_at_once_and_queues_nothing(
    client, world, organiser_admin, bombs
):
    client.force_login(organiser_admin)
    started = time.perf_counter()
    response = client.post(
        reverse("transfer-upload"),
        {
            "target": f"unit:{world.unit.public_id}",
            "file": SimpleUploadedFile("t.xlsx", bombs["rows"], content_type=XLSX),
        },
    )
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 400
    assert "more than 100,000 rows" in response.content.decode()
    assert not TransferRun.objects.exists()


def test_the_workbook_is_read_by_the_worker_not_the_request(
    client, world, organiser_admin, django_capture_on_commit_callbacks
):
    client.force_login(organiser_admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(
            reverse("transfer-upload"),
            {
                "target": f"unit:{world.unit.public_id}",
                "file": SimpleUploadedFile(
                    "t.xlsx", workbook_bytes(unit_rows(world)), content_type=XLSX
                ),
            },
        )
    run = TransferRun.objects.get()
    assert run.status == TransferStatus.QUEUED
    assert set(run.payload) == {"xlsx"}  # the file, not yet a document


def _rejecting_rows(world, n: int) -> dict[str, list[list]]:
    rows = unit_rows(world)
    code = world.unit.school_unit_code
    rows["students"] = [
        [f"bad-{i}", "A", "B", "", "", "", code, "GR", "nine", ""] for i in range(n)
    ]
    return rows


def test_a_runs_report_keeps_a_bounded_number_of_rejected_records(
    client, world, organiser_admin, django_capture_on_commit_callbacks
):
    client.force_login(organiser_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("transfer-upload"),
            {
                "target": f"unit:{world.unit.public_id}",
                "file": SimpleUploadedFile(
                    "t.xlsx", workbook_bytes(_rejecting_rows(world, 1000)), content_type=XLSX
                ),
            },
        )
    run = TransferRun.objects.get()
    assert run.status == TransferStatus.REJECTED
    assert len(run.report["rejected"]) == MAX_REPORTED_REJECTIONS
    total = run.report["rejected_total"]
    assert total >= 1000
    assert sum(run.report["rejected_more"].values()) == total - MAX_REPORTED_REJECTIONS
    # the list of runs shows the total, the run's page the records
    listing = client.get(reverse("transfer-runs")).content.decode()
    assert f"<td>{total}</td>" in listing


def test_reading_the_run_list_again_and_again_keeps_memory_flat(client, world, organiser_admin):
    # given 30 runs, each with a 1 MB stored file and a report at its limit
    report = {
        "status": "rejected",
        "rejected": [
            {"type": "row", "id": f"students row {n}", "field": "x", "message": "y" * 200}
            for n in range(MAX_REPORTED_REJECTIONS)
        ],
        "rejected_total": 5000,
        "flag_total": 0,
    }
    for _ in range(30):
        TransferRun.objects.create(
            organiser=world.unit.organiser,
            source="xlsx",
            status=TransferStatus.REJECTED,
            report=report,
            payload={"xlsx": "A" * 2**20},
        )
    client.force_login(organiser_admin)
    client.get(reverse("transfer-runs"))  # warm caches
    # when the list is read ten times, then it never holds the files or the reports
    tracemalloc.start()
    for _ in range(10):
        page = client.get(reverse("transfer-runs"))
        assert page.status_code == 200
        assert "<td>5000</td>" in page.content.decode()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\nrun list read 10 times: peak {peak / 2**20:.1f} MB")
    assert peak < 8 * 2**20  # the 30 files alone are 30 MB, the reports 1.5 MB
