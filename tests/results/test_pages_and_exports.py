"""Result pages and exports: what a head teacher and a teacher see, exports read back equal the
page's figures, formulas are neutralised, every export is audited."""

import csv
import io

import openpyxl
import pytest

from provplattform.models import AuditEvent
from results.exports import neutralise
from schools.roles import Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, world, role=Role.HEAD_TEACHER):
    client.login(username=world.staff[role].username, password=PASSWORD)


def test_unit_page_highlights_below_and_just_above_and_draws_the_distribution(client, world, sat):
    _login(client, world)
    rs = sat[world.unit]
    body = client.get(f"/units/{world.unit.public_id}/results/{rs.public_id}/").content.decode()
    assert "result--below" in body and "result--just-above" in body
    assert "<svg" in body
    assert 'class="chart-data"' in body  # the data table beside the chart
    for person in world.students_a + world.students_b:
        assert person.full_name in body


def test_student_page_shows_responses_scores_and_comments(client, world, sat):
    from grading.models import Score

    person = world.students_a[1]
    Score.objects.filter(attempt__person=person).update(comment="Läs instruktionen noga")
    _login(client, world, Role.TEACHER)
    rs = sat[world.unit]
    body = client.get(
        f"/units/{world.unit.public_id}/results/{rs.public_id}/students/{person.public_id}/"
    ).content.decode()
    assert person.full_name in body and "Läs instruktionen noga" in body


def _csv(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def _page_figures(body: str) -> dict:
    """{student name: [cell texts]} from the result table of a page (the highlighted table)."""
    import re
    from html import unescape

    figures = {}
    for row in re.findall(r"<tr class=\"[^\"]*\">\s*<th scope=\"row\">(.*?)</tr>", body, re.S):
        name = unescape(re.sub(r"<[^>]+>", "", row.split("</th>", 1)[0])).strip()
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.split("</th>", 1)[1], re.S)
        figures[name] = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]
    return figures


def test_csv_and_xlsx_read_back_equal_the_page_and_api_figures(client, world, sat):
    _login(client, world)
    rs = sat[world.unit]
    base = f"/units/{world.unit.public_id}/results/{rs.public_id}/"
    api = client.get(f"/api/v1/units/{world.unit.public_id}/results/{rs.public_id}/").json()
    expected = {
        s["name"]: (str(s["points"]), [str(c["points"]) for c in s["subtests"]])
        for s in api["students"]
    }
    rows = _csv(client, f"{base}export.csv")
    assert rows[0][1] == rs.test.title and rows[1] == ["Results version", str(rs.version)]
    data = rows[6:]
    assert {r[0]: (r[1], r[5:]) for r in data} == expected
    # and the page shows the same points ("4/7 below" in a subtest cell, "7/11" as total)
    page = _page_figures(client.get(base).content.decode())
    assert set(page) == set(expected)
    for name, (total, parts) in expected.items():
        cells = page[name]
        assert [c.split("/")[0] for c in cells[: len(parts)]] == parts
        assert cells[len(parts)].split("/")[0] == total
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}export.xlsx").content)).active
    cells = list(sheet.iter_rows(values_only=True))[6:]
    assert {r[0]: (str(r[1]), [str(v) for v in r[5:]]) for r in cells} == expected
    events = AuditEvent.objects.filter(action="results.exported", target_id=str(rs.public_id))
    assert [e.after["format"] for e in events.order_by("id")] == ["csv", "xlsx"]
    assert events.first().after["students"] == 6
    assert events.first().actor == world.staff[Role.HEAD_TEACHER]


def test_group_export_holds_only_the_group(client, world, sat):
    _login(client, world, Role.TEACHER)
    rs = sat[world.unit]
    rows = _csv(
        client,
        f"/units/{world.unit.public_id}/results/{rs.public_id}/export.csv?group={world.group_a.public_id}",
    )
    assert sorted(r[0] for r in rows[6:]) == sorted(p.full_name for p in world.students_a)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_starts_are_neutralised_in_every_export(client, world, sat, start):
    person = world.students_a[0]
    person.given_name = f'{start}HYPERLINK("http://x")'
    person.save()
    _login(client, world)
    rs = sat[world.unit]
    base = f"/units/{world.unit.public_id}/results/{rs.public_id}/"
    names = [r[0] for r in _csv(client, f"{base}export.csv")[6:]]
    assert all(not n.startswith(("=", "+", "-", "@", "\t", "\r")) for n in names)
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}export.xlsx").content)).active
    for row in sheet.iter_rows(values_only=True):
        for value in row:
            assert not (
                isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r"))
            )
    assert neutralise(-3) == -3  # numbers stay numbers


def test_result_pages_take_the_same_queries_for_more_students(client, world, sat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from results.services import results_compute
    from tests.factories import student
    from tests.results.helpers import score, sit

    _login(client, world)
    rs = sat[world.unit]
    urls = [
        f"/units/{world.unit.public_id}/results/{rs.public_id}/",
        f"/units/{world.unit.public_id}/results/{rs.public_id}/groups/{world.group_a.public_id}/",
    ]

    def counts():
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found.append(len(queries))
        return found

    before = counts()
    # given three more students in group A with results
    newcomers = [student(world.unit) for _ in range(3)]
    world.group_a.members.add(*newcomers)
    first, second = rs.test.subtests.order_by("position")
    for attempt in sit(world.unit, first, newcomers):
        score(attempt, [1] * 7)
    for attempt in sit(world.unit, second, newcomers):
        score(attempt, [1] * 4)
    results_compute(school_unit=world.unit, test=rs.test)
    assert counts() == before
