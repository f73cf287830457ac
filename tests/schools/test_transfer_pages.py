"""Spreadsheet transfers and the transfer pages: template, upload, runs, tokens, refusals."""

from __future__ import annotations

import datetime
import io
import re
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bench.transfer import civic_number
from schools.models import (
    OrganiserAdministrator,
    OrganiserApiToken,
    Person,
    TeachingGroup,
    TransferRun,
    TransferStatus,
)
from schools.roles import Role
from schools.transfer.services import transfer_submit_xlsx
from schools.transfer.tokens import api_token_authenticate
from schools.transfer.xlsx import SHEETS, build_template
from tests.factories import OrganiserFactory, UserFactory

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_bytes(rows: dict[str, list[list]]) -> bytes:
    """The template with our rows instead of the examples."""
    workbook = load_workbook(io.BytesIO(build_template(with_examples=False)))
    for sheet, values in rows.items():
        for row in values:
            workbook[sheet].append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def unit_rows(world) -> dict[str, list[list]]:
    code = world.unit.school_unit_code
    teacher = world.staff[Role.TEACHER].person
    return {
        "groups": [["grp-x", "9X", code, "Undervisning", teacher.external_id]],
        "students": [
            [
                "new-1",
                "Ada",
                "Ek",
                civic_number(101),
                "ada@skola.example",
                "",
                code,
                "GR",
                9,
                "grp-x",
            ],
            [
                "new-2",
                "Bo",
                "Ek",
                civic_number(102),
                "bo@skola.example",
                "",
                code,
                "GR",
                9,
                "grp-x",
            ],
        ],
        "staff": [
            [
                "",
                teacher.external_id,
                "Tina",
                "Lärare",
                civic_number(103, 1980),
                teacher.eppn,
                "",
                code,
                "Lärare",
            ],
        ],
    }


@pytest.fixture
def organiser_admin(world):
    user = UserFactory(username="orgadmin")
    OrganiserAdministrator.objects.create(user=user, organiser=world.unit.organiser)
    return user


def with_broken_sheet(data: bytes) -> bytes:
    """The workbook with its first sheet's XML cut off in the middle of an element."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(info, content)
    return out.getvalue()


def upload(client, target: str, data: bytes, capture):
    with capture(execute=True):
        return client.post(
            reverse("transfer-upload"),
            {"target": target, "file": SimpleUploadedFile("t.xlsx", data, content_type=XLSX)},
        )


def test_template_has_the_four_sheets_with_their_columns(client, organiser_admin):
    client.force_login(organiser_admin)

    response = client.get(reverse("transfer-template"))

    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == list(SHEETS)
    for name, columns in SHEETS.items():
        assert [c.value for c in workbook[name][1]] == columns


def test_the_template_with_its_example_rows_uploads_as_it_is(
    client, django_capture_on_commit_callbacks
):
    # given a new organiser's administrator and the template as downloaded
    admin = UserFactory(username="newadmin")
    organiser = OrganiserFactory()
    OrganiserAdministrator.objects.create(user=admin, organiser=organiser)
    client.force_login(admin)
    template = client.get(reverse("transfer-template")).content

    # when it is uploaded unchanged
    upload(client, f"organiser:{organiser.public_id}", template, django_capture_on_commit_callbacks)

    # then its examples are applied: a unit, a student in a group, a teacher with a login
    run = TransferRun.objects.get()
    assert run.status == TransferStatus.APPLIED, run.report["rejected"]
    group = TeachingGroup.objects.get(school_unit__organiser=organiser, external_id="9A-2026")
    assert list(group.members.values_list("external_id", flat=True)) == ["student-1"]
    assert list(group.teachers.values_list("external_id", flat=True)) == ["staff-1"]


def test_organiser_admin_upload_for_one_unit_round_trip_applies_there(
    client, world, organiser_admin, django_capture_on_commit_callbacks
):
    client.force_login(organiser_admin)
    data = workbook_bytes(unit_rows(world))

    response = upload(
        client, f"unit:{world.unit.public_id}", data, django_capture_on_commit_callbacks
    )

    run = TransferRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("transfer-run", args=[run.public_id])
    assert run.status == TransferStatus.APPLIED, run.report
    assert run.school_unit == world.unit
    group = TeachingGroup.objects.get(external_id="grp-x")
    assert sorted(group.members.values_list("external_id", flat=True)) == ["new-1", "new-2"]
    assert list(group.teachers.all()) == [world.staff[Role.TEACHER].person]
    page = client.get(response["Location"])
    assert page.status_code == 200
    # the report shows counts, not people (CSRF tokens left out: they may hold any letters)
    text = re.sub(r'(value="|"X-CSRFToken": ")[A-Za-z0-9]+', "", page.content.decode())
    assert "9X" not in text
    # the same workbook again changes nothing
    upload(client, f"unit:{world.unit.public_id}", data, django_capture_on_commit_callbacks)
    second = TransferRun.objects.order_by("-created").first()
    assert second.status == TransferStatus.APPLIED
    assert all(
        c["created"] + c["updated"] + c["removed"] == 0 for c in second.report["counts"].values()
    )


def test_bad_rows_are_reported_with_their_row_numbers_and_nothing_applied(
    client, world, organiser_admin, django_capture_on_commit_callbacks
):
    rows = unit_rows(world)
    valid = rows["students"][1][3]
    rows["students"][1][3] = valid[:-1] + str((int(valid[-1]) + 1) % 10)  # wrong check digit
    rows["students"].append(["new-3", "Cy", "Ek", "", "", "", "99999999", "GR", "nio", ""])
    rows["students"].append(
        [
            "new-4",
            "Di",
            "Ek",
            civic_number(104),
            "di@x",
            "",
            rows["students"][0][6],
            "GR",
            "nio",
            "",
        ]
    )
    client.force_login(organiser_admin)

    upload(
        client,
        f"organiser:{world.unit.organiser.public_id}",
        workbook_bytes(rows),
        django_capture_on_commit_callbacks,
    )

    run = TransferRun.objects.get()
    assert run.status == TransferStatus.REJECTED
    messages = [r["message"] for r in run.report["rejected"]]
    assert "Students row 4: Unknown school unit code 99999999." in messages
    assert "Students row 5: Must be a whole number." in messages
    assert (
        "Students row 3: Not a valid personal identity number (check digit or date is wrong)."
        in messages
    )
    assert not Person.objects.filter(external_id__startswith="new-").exists()
    page = client.get(reverse("transfer-run", args=[run.public_id]))
    assert "Students row 4" in page.content.decode()


def test_an_upload_for_one_unit_cannot_carry_rows_for_another_unit(
    client, world, organiser_admin, django_capture_on_commit_callbacks
):
    client.force_login(organiser_admin)
    rows = unit_rows(world)
    rows["students"][0][6] = world.sibling_unit.school_unit_code

    upload(
        client,
        f"unit:{world.unit.public_id}",
        workbook_bytes(rows),
        django_capture_on_commit_callbacks,
    )

    run = TransferRun.objects.get()
    assert run.status == TransferStatus.REJECTED
    assert any(
        "Outside the school unit of this upload." in r["message"] for r in run.report["rejected"]
    )


def test_a_teacher_cannot_upload_or_see_transfers(client, world):
    client.force_login(world.staff[Role.TEACHER])

    assert client.get(reverse("transfer-upload")).status_code == 404
    assert client.get(reverse("transfer-runs")).status_code == 404
    response = client.post(
        reverse("transfer-upload"),
        {"target": f"unit:{world.unit.public_id}", "file": SimpleUploadedFile("t.xlsx", b"x")},
    )
    assert response.status_code == 404
    assert not TransferRun.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.HEAD_TEACHER, Role.SCHOOL_ADMINISTRATOR, Role.TEST_ADMINISTRATOR]
)
def test_school_staff_who_assign_roles_cannot_upload_or_get_the_template(
    client, world, role, django_capture_on_commit_callbacks
):
    # given staff who may assign roles at their unit (Provadministratör included)
    client.force_login(world.staff[role])

    # then the upload page, the upload itself and the template answer 404
    assert client.get(reverse("transfer-upload")).status_code == 404
    assert client.get(reverse("transfer-template")).status_code == 404
    response = upload(
        client,
        f"unit:{world.unit.public_id}",
        workbook_bytes(unit_rows(world)),
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 404
    assert not TransferRun.objects.exists()
    assert not Person.objects.filter(external_id__startswith="new-").exists()
    # and the transfer pages offer them no upload
    page = client.get(reverse("transfer-runs"))
    assert page.status_code == 200
    assert reverse("transfer-upload") not in page.content.decode()


def test_organiser_admin_cannot_upload_for_another_organisers_unit(
    client, world, organiser_admin, django_capture_on_commit_callbacks
):
    client.force_login(organiser_admin)

    response = upload(
        client,
        f"unit:{world.other_org_unit.public_id}",
        workbook_bytes(unit_rows(world)),
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 404
    response = upload(
        client,
        f"organiser:{world.other_org_unit.organiser.public_id}",
        workbook_bytes(unit_rows(world)),
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 400
    assert not TransferRun.objects.exists()


def test_the_upload_service_refuses_anyone_but_the_organisers_admin(world, organiser_admin):
    with pytest.raises(PermissionDenied):
        transfer_submit_xlsx(
            organiser=world.unit.organiser,
            data=workbook_bytes(unit_rows(world)),
            actor=world.staff[Role.HEAD_TEACHER],
            school_unit=world.unit,
        )
    with pytest.raises(PermissionDenied):
        transfer_submit_xlsx(
            organiser=world.unit.organiser,
            data=b"x",
            actor=organiser_admin,
            school_unit=world.other_org_unit,
        )
    assert not TransferRun.objects.exists()


def test_school_admin_reads_their_units_runs_but_not_another_units(
    client, world, organiser_admin, django_capture_on_commit_callbacks
):
    client.force_login(organiser_admin)
    upload(
        client,
        f"unit:{world.sibling_unit.public_id}",
        with_broken_sheet(workbook_bytes(unit_rows(world))),
        django_capture_on_commit_callbacks,
    )
    run = TransferRun.objects.get()
    assert run.report["rejected"][0]["message"] == "Not a readable .xlsx file."

    client.force_login(world.sibling_head)
    assert client.get(reverse("transfer-run", args=[run.public_id])).status_code == 200
    client.force_login(world.staff[Role.SCHOOL_ADMINISTRATOR])
    assert client.get(reverse("transfer-run", args=[run.public_id])).status_code == 404
    listed = client.get(reverse("transfer-runs")).content.decode()
    assert str(run.public_id) not in listed


def test_organiser_admin_sees_runs_of_every_unit_of_their_organiser_only(
    client, world, organiser_admin
):
    own = TransferRun.objects.create(
        organiser=world.unit.organiser, school_unit=world.sibling_unit, source="xlsx"
    )
    other_admin = UserFactory()
    OrganiserAdministrator.objects.create(
        user=other_admin, organiser=world.other_org_unit.organiser
    )

    client.force_login(organiser_admin)
    assert client.get(reverse("transfer-run", args=[own.public_id])).status_code == 200
    client.force_login(other_admin)
    assert client.get(reverse("transfer-run", args=[own.public_id])).status_code == 404


def test_a_run_stuck_running_shows_that_its_worker_stopped(client, world, organiser_admin):
    run = TransferRun.objects.create(
        organiser=world.unit.organiser,
        source="api",
        status=TransferStatus.RUNNING,
        started_at=timezone.now() - datetime.timedelta(hours=2),
    )
    client.force_login(organiser_admin)

    page = client.get(reverse("transfer-run", args=[run.public_id])).content.decode()

    assert "the worker running it stopped. Nothing was applied." in page
    assert 'hx-trigger="every 1s"' not in page
    run.refresh_from_db()
    assert run.status == TransferStatus.FAILED


def test_running_run_page_polls_every_second(client, world, organiser_admin):
    run = TransferRun.objects.create(
        organiser=world.unit.organiser, source="api", status=TransferStatus.RUNNING
    )
    client.force_login(organiser_admin)

    page = client.get(reverse("transfer-run", args=[run.public_id])).content.decode()

    assert 'hx-trigger="every 1s"' in page
    partial = client.get(reverse("transfer-run", args=[run.public_id]), HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()


def test_organiser_admin_creates_sees_once_and_revokes_a_token(client, organiser_admin):
    client.force_login(organiser_admin)

    created = client.post(reverse("transfer-tokens"), {"name": "Elevregister"})

    token = OrganiserApiToken.objects.get()
    plain = re.search(rf"pp_{token.prefix}_[A-Za-z0-9_-]{{20,}}", created.content.decode())
    assert plain and api_token_authenticate(plain.group(0)) == token
    listing = client.get(reverse("transfer-tokens")).content.decode()
    assert f"pp_{token.prefix}_…" in listing
    assert plain.group(0) not in listing
    client.post(reverse("transfer-token-revoke", args=[token.public_id]))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_school_staff_cannot_manage_tokens(client, world, organiser_admin):
    client.force_login(organiser_admin)
    client.post(reverse("transfer-tokens"), {"name": "X"})
    token = OrganiserApiToken.objects.get()
    client.force_login(world.staff[Role.HEAD_TEACHER])

    assert client.get(reverse("transfer-tokens")).status_code == 404
    assert client.post(reverse("transfer-token-revoke", args=[token.public_id])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_sheet_with_an_unknown_name_is_rejected_not_skipped(
    client, world, organiser_admin, django_capture_on_commit_callbacks
):
    # given a workbook whose students sheet was renamed (e.g. translated)
    workbook = load_workbook(io.BytesIO(workbook_bytes(unit_rows(world))))
    workbook["students"].title = "elever"
    out = io.BytesIO()
    workbook.save(out)
    client.force_login(organiser_admin)
    # when it is uploaded
    upload(
        client,
        f"organiser:{world.unit.organiser.public_id}",
        out.getvalue(),
        django_capture_on_commit_callbacks,
    )
    # then the run names the sheet and applies nothing
    run = TransferRun.objects.get()
    assert run.status == TransferStatus.REJECTED
    assert [
        (r["field"], r["message"].startswith("Unknown sheet")) for r in run.report["rejected"]
    ] == [("elever", True)]
    assert not TeachingGroup.objects.filter(external_id="grp-x").exists()


def test_two_rows_of_one_person_that_disagree_are_rejected(
    client, world, organiser_admin, django_capture_on_commit_callbacks
):
    rows = unit_rows(world)
    second_unit = world.sibling_unit.school_unit_code
    # the same student at a second unit, but with another family name
    rows["students"].append(
        [
            "new-1",
            "Ada",
            "Björk",
            civic_number(101),
            "ada@skola.example",
            "",
            second_unit,
            "GR",
            9,
            "",
        ]
    )
    client.force_login(organiser_admin)

    upload(
        client,
        f"organiser:{world.unit.organiser.public_id}",
        workbook_bytes(rows),
        django_capture_on_commit_callbacks,
    )

    run = TransferRun.objects.get()
    assert run.status == TransferStatus.REJECTED
    assert [(r["field"], r["message"]) for r in run.report["rejected"]] == [
        ("family_name", "Students row 4: Differs from students row 2 for the same person_id.")
    ]
    assert not Person.objects.filter(external_id="new-1").exists()


def test_two_rows_of_one_person_that_agree_enrol_them_twice(
    client, world, organiser_admin, django_capture_on_commit_callbacks
):
    rows = unit_rows(world)
    again = list(rows["students"][0])
    again[6] = world.sibling_unit.school_unit_code
    again[9] = ""
    rows["students"].append(again)
    client.force_login(organiser_admin)

    upload(
        client,
        f"organiser:{world.unit.organiser.public_id}",
        workbook_bytes(rows),
        django_capture_on_commit_callbacks,
    )

    run = TransferRun.objects.get()
    assert run.status == TransferStatus.APPLIED, run.report["rejected"]
    ada = Person.objects.get(external_id="new-1")
    assert set(ada.enrolments.values_list("school_unit", flat=True)) == {
        world.unit.pk,
        world.sibling_unit.pk,
    }


def test_a_token_asked_for_another_organiser_is_refused_not_issued_for_ones_own(
    client, world, organiser_admin
):
    client.force_login(organiser_admin)
    other = world.other_org_unit.organiser
    response = client.post(
        reverse("transfer-tokens"), {"name": "X", "organiser": str(other.public_id)}
    )
    assert response.status_code == 404
    assert not OrganiserApiToken.objects.exists()
