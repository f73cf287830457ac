"""The assign form says when a test is already assigned automatically (mandatory) instead of
listing every student as refused; ASSIGNMENT_OPENS_DAYS_BEFORE is the definitions' default."""

from __future__ import annotations

import pytest
from django.urls import reverse

from exams.definitions.format import parse_definition
from exams.preparation.assignments import assignments_create_for_grade, assignments_sync_mandatory
from schools.roles import Role
from tests.exams.helpers import subtest_in_window

pytestmark = pytest.mark.django_db


def test_assigning_a_mandatory_test_again_says_it_is_assigned_automatically(world):
    subtest = subtest_in_window()  # mandatory
    assignments_sync_mandatory(school_unit=world.unit)

    summary = assignments_create_for_grade(
        actor=world.staff[Role.TEST_ADMINISTRATOR], school_unit=world.unit, subtest=subtest
    )

    assert summary.changed == [] and len(summary.refused) == 6
    assert {r["reason"] for r in summary.refused} == {
        "Already assigned automatically: the test is mandatory."
    }
    assert summary.notes == [
        "This test is mandatory: 6 of these students already had it, assigned automatically. "
        "Nothing more to do for them."
    ]


def test_the_assign_form_marks_mandatory_tests_and_the_page_explains_the_refusals(client, world):
    mandatory = subtest_in_window()
    voluntary = subtest_in_window(mandatory=False)
    assignments_sync_mandatory(school_unit=world.unit)
    client.force_login(world.staff[Role.TEST_ADMINISTRATOR])
    url = reverse("exams-assignments", args=[world.unit.public_id])

    html = client.get(url).content.decode()
    assert f"{mandatory.title} (mandatory: assigned automatically)" in html
    assert f"{voluntary.title} (mandatory" not in html

    page = client.post(url, {"subtest": str(mandatory.public_id), "mode": "grade"})
    html = page.content.decode()
    assert "This test is mandatory: 6 of these students already had it" in html


def test_a_definition_without_its_own_opening_reads_the_setting(settings):
    settings.ASSIGNMENT_OPENS_DAYS_BEFORE = 14
    spec = {
        "code": "se-ma-9",
        "programme": "se_national",
        "title": "Matematik",
        "subject": "Matematik",
        "grade": 9,
        "window": {"start": "2027-03-01", "end": "2027-03-31"},
        "subtests": [],
    }
    parsed, _problems = parse_definition(spec)
    assert "assignment_opens_days_before" not in {p.path for p in _problems}
    assert parsed["assignment_opens_days_before"] == 14
