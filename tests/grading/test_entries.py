"""Points of off-platform subtests and paper replacement tests: by hand, or through the form."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from grading import hooks
from grading.entries_xlsx import COLUMNS, MAX_ROWS
from grading.models import EntryImport, SubtestEntry
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.factories import (
    AssignmentFactory,
    ItemFactory,
    PaperReplacementFactory,
    SubtestFactory,
    student,
)


@pytest.fixture
def entry_world(world):
    """An oral part (max 20) assigned to group 9A, and a paper replacement of a 4-point subtest
    for its first student."""
    oral = SubtestFactory(on_platform=False, max_points=20, title="Muntligt")
    for person in world.students_a:
        AssignmentFactory(school_unit=world.unit, subtest=oral, person=person)
    paper = SubtestFactory(title="Delprov B")
    ItemFactory(subtest=paper, max_points=1)
    ItemFactory(subtest=paper, max_points=3)
    PaperReplacementFactory(school_unit=world.unit, subtest=paper, person=world.students_a[0])
    world.oral, world.paper = oral, paper
    return world


@pytest.fixture
def notified(monkeypatch):
    calls = []
    monkeypatch.setattr(hooks, "scores_changed", [lambda **kw: calls.append(kw)])
    return calls


def _urls(world):
    unit, group = world.unit.public_id, world.group_a.public_id
    return {
        "page": reverse("grading-entries", args=[unit]) + f"?group={group}",
        "form": reverse("grading-entries-form", args=[unit, group]),
        "upload": reverse("grading-entries-upload", args=[unit, group]),
    }


def _form(client, world) -> Workbook:
    response = client.get(_urls(world)["form"])
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def _bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(client, world, data: bytes, name="points.xlsx"):
    return client.post(_urls(world)["upload"], {"file": SimpleUploadedFile(name, data)})


def _row_of(sheet, person, subtest) -> int:
    for number, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        if row[0] == str(person.public_id) and row[2] == str(subtest.public_id):
            return number
    raise AssertionError("row not in the form")


def test_the_form_lists_students_subtests_and_maxima_with_protected_headers(entry_world, client):
    client.force_login(entry_world.staff[Role.TEACHER])
    sheet = _form(client, entry_world).active
    assert [c.value for c in sheet[1]] == COLUMNS
    assert sheet.max_row == 1 + 3 + 1  # three oral parts, one paper replacement
    paper_row = _row_of(sheet, entry_world.students_a[0], entry_world.paper)
    assert sheet.cell(paper_row, 5).value == 4
    assert sheet.protection.sheet is True
    assert sheet.cell(1, 1).protection.locked is True
    assert sheet.cell(paper_row, 6).protection.locked is False


def test_an_upload_is_shown_before_anything_is_applied_and_applied_when_confirmed(
    entry_world, client, notified, django_capture_on_commit_callbacks
):
    client.force_login(entry_world.staff[Role.TEACHER])
    workbook = _form(client, entry_world)
    sheet = workbook.active
    for person in entry_world.students_a:
        sheet.cell(_row_of(sheet, person, entry_world.oral), 6).value = 12
    sheet.cell(_row_of(sheet, entry_world.students_a[0], entry_world.paper), 6).value = 3
    response = _upload(client, entry_world, _bytes(workbook))
    assert response.status_code == 302
    upload = EntryImport.objects.get()
    assert not SubtestEntry.objects.exists()
    report = client.get(response["Location"])
    assert "Apply these points" in report.content.decode()

    with django_capture_on_commit_callbacks(execute=True):  # results hear of it after commit
        applied = client.post(response["Location"], {"action": "apply"})

    assert applied.status_code == 302
    assert SubtestEntry.objects.count() == 4
    paper = SubtestEntry.objects.get(subtest=entry_world.paper)
    assert (paper.points, paper.source) == (3, "paper")
    assert AuditEvent.objects.filter(action="score.entry_saved").count() == 4
    upload.refresh_from_db()
    assert upload.status == "applied"
    assert notified and set(notified[-1]["person_ids"]) == {p.pk for p in entry_world.students_a}
    again = client.post(response["Location"], {"action": "apply"})
    assert again.status_code == 409


def _bad_row_case(entry_world, sheet, case):
    first = entry_world.students_a[0]
    row = _row_of(sheet, first, entry_world.oral)
    if case == "unknown student":
        sheet.cell(row, 1).value = str(uuid.uuid4())
        return row, "A", "Unknown student."
    if case == "student of another unit":
        sheet.cell(row, 1).value = str(entry_world.sibling_students[0].public_id)
        return row, "A", "The student belongs to another school unit."
    if case == "student of another organiser":
        sheet.cell(row, 1).value = str(entry_world.other_org_students[0].public_id)
        return row, "A", "Unknown student."
    if case == "points out of range":
        sheet.cell(row, 6).value = 21
        return row, "F", "Points must be between 0 and 20."
    if case == "points not a number":
        sheet.cell(row, 6).value = "tolv"
        return row, "F", "Points must be a whole number."
    if case == "points not whole":
        sheet.cell(row, 6).value = 7.5
        return row, "F", "Points must be a whole number."
    if case == "subtest not assigned":
        other = entry_world.students_a[1]
        sheet.cell(_row_of(sheet, other, entry_world.oral), 3).value = str(
            entry_world.paper.public_id
        )
        return _row_of(sheet, other, entry_world.paper), "C", "not assigned"
    if case == "duplicate row":
        sheet.append([c.value for c in sheet[row]])
        return sheet.max_row, "A", f"Duplicate of row {row}."
    raise AssertionError(case)


CASES = [
    "unknown student",
    "student of another unit",
    "student of another organiser",
    "points out of range",
    "points not a number",
    "points not whole",
    "subtest not assigned",
    "duplicate row",
]


@pytest.mark.parametrize("case", CASES)
def test_an_upload_with_one_bad_row_names_it_and_applies_nothing(entry_world, client, case):
    client.force_login(entry_world.staff[Role.TEACHER])
    workbook = _form(client, entry_world)
    sheet = workbook.active
    for person in entry_world.students_a:
        sheet.cell(_row_of(sheet, person, entry_world.oral), 6).value = 10
    row, letter, message = _bad_row_case(entry_world, sheet, case)

    response = _upload(client, entry_world, _bytes(workbook))
    upload = EntryImport.objects.get()
    report = client.get(response["Location"]).content.decode()
    applied = client.post(response["Location"], {"action": "apply"})

    assert [(p["row"], p["letter"]) for p in upload.problems] == [(row, letter)]
    assert message in upload.problems[0]["message"]
    assert "Apply these points" not in report
    assert f"<td>{row}</td>" in report
    assert applied.status_code == 400
    assert not SubtestEntry.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="score.entry").exists()


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"student_id;points\n", "Not a readable .xlsx file."),
        (b"x" * (2 * 1024 * 1024 + 1), "larger than 2 MB"),
        (_zip({"[Content_Types].xml": b"<x/>", "xl/big.xml": b"\0" * (10 * 1024 * 1024)}),
         "zip bomb"),
        (_zip({"xl/workbook.xml": b"<x/>"}), "Not a readable .xlsx file."),
    ],
    ids=["not a zip", "too large", "compression ratio", "not a workbook"],
)  # fmt: skip
def test_an_unsafe_or_unreadable_file_is_refused_before_parsing(entry_world, client, data, message):
    client.force_login(entry_world.staff[Role.TEACHER])
    response = _upload(client, entry_world, data)
    assert response.status_code == 302
    shown = client.get(response["Location"]).content.decode()
    assert message in shown
    assert not EntryImport.objects.exists()


def test_a_form_with_too_many_rows_is_refused(entry_world, client):
    client.force_login(entry_world.staff[Role.TEACHER])
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "points"
    sheet.append(COLUMNS)
    for _ in range(MAX_ROWS + 1):
        sheet.append([str(uuid.uuid4()), "", str(uuid.uuid4()), "", 1, 1])
    response = _upload(client, entry_world, _bytes(workbook))
    assert f"more than {MAX_ROWS} rows" in client.get(response["Location"]).content.decode()
    assert not EntryImport.objects.exists()


def test_points_typed_on_the_page_are_saved_and_audited(
    entry_world, client, notified, django_capture_on_commit_callbacks
):
    client.force_login(entry_world.staff[Role.ASSESSMENT_LEAD])
    person = entry_world.students_a[1]
    key = f"{person.public_id}_{entry_world.oral.public_id}"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _urls(entry_world)["page"], {f"points-{key}": "15", f"version-{key}": "new"}
        )
    assert response.status_code == 302
    entry = SubtestEntry.objects.get(person=person)
    assert (entry.points, entry.source, entry.version) == (15, "off_platform", 0)
    event = AuditEvent.objects.get(action="score.entry_saved")
    assert event.before is None and event.after["points"] == 15
    assert notified
    # a second page read before the first save is refused, nothing changes
    stale = client.post(_urls(entry_world)["page"], {f"points-{key}": "9", f"version-{key}": "new"})
    assert stale.status_code == 409
    assert SubtestEntry.objects.get(person=person).points == 15


def test_a_page_save_with_one_bad_value_saves_nothing(entry_world, client):
    client.force_login(entry_world.staff[Role.TEACHER])
    first, second = entry_world.students_a[:2]
    ok = f"{first.public_id}_{entry_world.oral.public_id}"
    bad = f"{second.public_id}_{entry_world.oral.public_id}"
    response = client.post(
        _urls(entry_world)["page"],
        {f"points-{ok}": "5", f"version-{ok}": "new", f"points-{bad}": "25",
         f"version-{bad}": "new"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "between 0 and 20" in response.content.decode()
    assert 'value="25"' in response.content.decode()  # what was typed is shown again
    assert not SubtestEntry.objects.exists()


@pytest.mark.parametrize("role", [Role.PROCTOR, Role.OTHER_STAFF])
def test_staff_without_assessment_rights_get_not_found(entry_world, client, role):
    client.force_login(entry_world.staff[role])
    urls = _urls(entry_world)
    assert client.get(urls["page"]).status_code == 404
    assert client.get(urls["form"]).status_code == 404
    assert client.post(urls["upload"], {}).status_code == 404


def test_an_upload_of_someone_else_is_not_found(entry_world, client):
    client.force_login(entry_world.staff[Role.TEACHER])
    workbook = _form(client, entry_world)
    response = _upload(client, entry_world, _bytes(workbook))
    client.force_login(entry_world.staff[Role.HEAD_TEACHER])
    assert client.get(response["Location"]).status_code == 404
    assert client.post(response["Location"], {"action": "apply"}).status_code == 404


def test_a_group_of_another_unit_is_not_found(entry_world, client):
    from tests.factories import TeachingGroupFactory

    client.force_login(entry_world.staff[Role.HEAD_TEACHER])
    foreign = TeachingGroupFactory(school_unit=entry_world.sibling_unit)
    url = reverse("grading-entries-form", args=[entry_world.unit.public_id, foreign.public_id])
    assert client.get(url).status_code == 404
    student(entry_world.unit)


def test_the_api_checks_an_upload_and_refuses_to_apply_a_bad_one(entry_world, client):
    client.force_login(entry_world.staff[Role.TEACHER])
    workbook = _form(client, entry_world)
    sheet = workbook.active
    sheet.cell(_row_of(sheet, entry_world.students_a[0], entry_world.oral), 6).value = 8
    sheet.cell(_row_of(sheet, entry_world.students_a[1], entry_world.oral), 6).value = 99
    unit = entry_world.unit.public_id
    response = client.post(
        reverse("api-entry-uploads", args=[unit]),
        {"group": str(entry_world.group_a.public_id),
         "file": SimpleUploadedFile("p.xlsx", _bytes(workbook))},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(p["column"], p["letter"]) for p in body["problems"]] == [("points", "F")]
    apply = reverse("api-entry-upload-apply", args=[unit, body["id"]])
    refused = client.post(apply)
    assert refused.status_code == 400
    assert not SubtestEntry.objects.exists()


def test_the_api_saves_entries_all_or_nothing(entry_world, client):
    client.force_login(entry_world.staff[Role.TEACHER])
    url = reverse("api-entries", args=[entry_world.unit.public_id])
    first, second = entry_world.students_a[:2]
    oral = str(entry_world.oral.public_id)
    bad = client.put(
        url,
        {"entries": [{"student": str(first.public_id), "subtest": oral, "points": 5},
                     {"student": str(second.public_id), "subtest": oral, "points": "x"}]},
        "application/json",
    )  # fmt: skip
    assert bad.status_code == 400 and bad.json()["problems"][0]["row"] == 2
    assert not SubtestEntry.objects.exists()
    ok = client.put(
        url, {"entries": [{"student": str(first.public_id), "subtest": oral, "points": 5}]},
        "application/json",
    )  # fmt: skip
    assert ok.json() == {"changed": 1}
    sheet = client.get(url, {"group": str(entry_world.group_a.public_id)}).json()
    assert {(r["student"], r["points"]) for r in sheet if r["subtest"] == oral} >= {
        (str(first.public_id), 5)
    }


def test_a_discarded_upload_is_never_applied(entry_world, client):
    client.force_login(entry_world.staff[Role.TEACHER])
    workbook = _form(client, entry_world)
    sheet = workbook.active
    sheet.cell(_row_of(sheet, entry_world.students_a[0], entry_world.oral), 6).value = 8
    response = _upload(client, entry_world, _bytes(workbook))
    assert client.post(response["Location"], {"action": "discard"}).status_code == 302
    assert client.post(response["Location"], {"action": "apply"}).status_code == 409
    assert not SubtestEntry.objects.exists()
    assert AuditEvent.objects.filter(action="score.entry_import_discarded").exists()


def test_a_name_that_looks_like_a_formula_stays_text_in_the_form(entry_world, client):
    person = entry_world.students_a[0]
    person.given_name = '=HYPERLINK("http://example.invalid","x")'
    person.save()
    client.force_login(entry_world.staff[Role.TEACHER])
    response = client.get(_urls(entry_world)["form"])
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
