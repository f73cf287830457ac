"""Second marking: a blind sample, agreement figures for the lead, decisions that count."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grading.models import Score, ScoreSource, SecondMarking
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.grading.desk_helpers import assign_all, graded_subtest, submitted_attempts


@pytest.fixture
def marked(world):
    """Four students' two essays, first scored by the assessor, sampled 100 % to the teacher."""
    subtest, items = graded_subtest(open_items=2, closed_items=0)
    submitted_attempts(unit=world.unit, subtest=subtest, items=items, count=4)
    assessor, teacher = world.staff[Role.ASSESSOR], world.staff[Role.TEACHER]
    assign_all(unit=world.unit, subtest=subtest, assessor_person=assessor.person)
    world.subtest, world.items = subtest, items
    world.assessor, world.teacher = assessor, teacher
    return world


def _sample(client, world, percent=100, items=None, assessors=None):
    body = {
        "subtest": str(world.subtest.public_id),
        "percent": percent,
        "assessors": [str(p.public_id) for p in (assessors or [world.teacher.person])],
    }
    if items:
        body["items"] = [str(i.public_id) for i in items]
    return client.post(
        reverse("api-second-markings", args=[world.unit.public_id]), body, "application/json"
    )


def test_the_lead_samples_a_share_per_item_for_another_assessor(marked, client):
    client.force_login(marked.staff[Role.ASSESSMENT_LEAD])
    response = _sample(client, marked, percent=10)
    assert response.status_code == 201, response.content
    # 10 % of four responses, rounded up: one per item
    markings = SecondMarking.objects.all()
    assert markings.count() == 2
    assert {m.score.item_id for m in markings} == {i.pk for i in marked.items}
    assert {m.assessor_id for m in markings} == {marked.teacher.person_id}


def test_named_items_only(marked, client):
    client.force_login(marked.staff[Role.ASSESSMENT_LEAD])
    _sample(client, marked, percent=100, items=[marked.items[1]])
    assert set(SecondMarking.objects.values_list("score__item_id", flat=True)) == {
        marked.items[1].pk
    }


def test_a_response_never_goes_to_its_own_first_assessor(marked, client):
    client.force_login(marked.staff[Role.ASSESSMENT_LEAD])
    response = _sample(client, marked, assessors=[marked.assessor.person])
    assert response.status_code == 201
    assert not SecondMarking.objects.exists()


def test_an_assessor_cannot_sample(marked, client):
    client.force_login(marked.assessor)
    assert _sample(client, marked).status_code == 404


def _score_both(world, client, first_points: list[int], second_points: list[int]):
    item = world.items[0]
    markings = list(SecondMarking.objects.filter(score__item=item).order_by("score__attempt_id"))
    client.force_login(world.assessor)
    for marking, points in zip(markings, first_points, strict=True):
        url = reverse("api-desk-score", args=[world.unit.public_id, marking.score.public_id])
        assert (
            client.put(url, {"points": points, "version": 0}, "application/json").status_code == 200
        )
    client.force_login(world.teacher)
    for marking, points in zip(markings, second_points, strict=True):
        url = reverse("api-desk-second-marking", args=[world.unit.public_id, marking.public_id])
        response = client.put(url, {"points": points, "version": 0}, "application/json")
        assert response.status_code == 200, response.content
    return markings


def test_the_second_assessor_scores_blind(marked, client):
    client.force_login(marked.staff[Role.ASSESSMENT_LEAD])
    _sample(client, marked)
    marking = SecondMarking.objects.filter(score__item=marked.items[0]).first()
    client.force_login(marked.assessor)
    first = reverse("api-desk-score", args=[marked.unit.public_id, marking.score.public_id])
    client.put(
        first, {"points": 3, "comment": "Hemlig kommentar", "version": 0}, "application/json"
    )
    client.force_login(marked.teacher)
    page = reverse("grading-second-response", args=[marked.unit.public_id, marking.public_id])
    body = client.get(page).content.decode()
    assert "Hemlig kommentar" not in body
    assert 'value="3"' not in body
    api = client.get(
        reverse("api-desk-second-marking", args=[marked.unit.public_id, marking.public_id])
    ).json()
    assert api["points"] is None and "Hemlig" not in str(api)
    # the first response itself stays closed to the second assessor
    assert client.get(first).status_code == 404


def test_a_second_marking_of_someone_else_is_not_found(marked, client):
    client.force_login(marked.staff[Role.ASSESSMENT_LEAD])
    _sample(client, marked)
    marking = SecondMarking.objects.first()
    client.force_login(marked.assessor)
    url = reverse("api-desk-second-marking", args=[marked.unit.public_id, marking.public_id])
    assert client.get(url).status_code == 404
    assert client.put(url, {"points": 1, "version": 0}, "application/json").status_code == 404


def test_agreement_figures_and_disagreements(marked, client):
    client.force_login(marked.staff[Role.ASSESSMENT_LEAD])
    _sample(client, marked, items=[marked.items[0]])
    _score_both(marked, client, [0, 1, 2, 3], [0, 1, 3, 3])
    client.force_login(marked.staff[Role.ASSESSMENT_LEAD])
    url = reverse("api-second-markings-agreement", args=[marked.unit.public_id])
    report = client.get(url, {"subtest": str(marked.subtest.public_id)}).json()
    assert report["weights"] == "quadratic"
    figures = report["items"][0]["figures"]
    assert figures["pairs"] == 4
    assert figures["exact"] == pytest.approx(0.75)
    assert figures["mean_absolute_difference"] == pytest.approx(0.25)
    # quadratic kappa = 2·cov / (var x + var y + (mean x − mean y)²)
    #                 = 2.75 / (1.25 + 1.6875 + 0.0625)
    assert figures["kappa"] == pytest.approx(2.75 / 3)
    pair = report["items"][0]["pairs"][0]
    assert pair["first_assessor"] == str(marked.assessor.person.public_id)
    assert pair["second_assessor"] == str(marked.teacher.person.public_id)
    assert [(d["first_points"], d["second_points"]) for d in report["disagreements"]] == [(2, 3)]
    page = client.get(
        reverse("grading-second-marking", args=[marked.unit.public_id]),
        {"subtest": str(marked.subtest.public_id)},
    )
    assert page.status_code == 200 and "75 %" in page.content.decode()


def test_the_decided_score_counts_and_everything_is_audited(marked, client):
    client.force_login(marked.staff[Role.ASSESSMENT_LEAD])
    _sample(client, marked, items=[marked.items[0]])
    markings = _score_both(marked, client, [0, 1, 2, 3], [0, 1, 3, 3])
    disputed = markings[2]
    client.force_login(marked.staff[Role.ASSESSMENT_LEAD])
    url = reverse("api-second-marking-decide", args=[marked.unit.public_id, disputed.public_id])
    response = client.post(url, {"points": 3, "reason": "Enligt anvisningen"}, "application/json")
    assert response.status_code == 200, response.content
    score = Score.objects.get(pk=disputed.score_id)
    assert (score.points, score.source) == (3, ScoreSource.DECIDED)
    event = AuditEvent.objects.get(action="score.decided")
    assert (event.before["points"], event.after["points"], event.reason) == (
        2, 3, "Enligt anvisningen",
    )  # fmt: skip
    assert AuditEvent.objects.filter(action="score.save").count() == 4
    assert AuditEvent.objects.filter(action="score.second_marked").count() == 4
    # the figures keep the first assessor's points; the decision is no longer open
    report = client.get(
        reverse("api-second-markings-agreement", args=[marked.unit.public_id]),
        {"subtest": str(marked.subtest.public_id)},
    ).json()
    assert report["items"][0]["figures"]["exact"] == pytest.approx(0.75)
    assert report["disagreements"] == []
    assert client.post(url, {"points": 2}, "application/json").status_code == 409
    # and the first assessor can no longer overwrite the decided score
    client.force_login(marked.assessor)
    again = client.put(
        reverse("api-desk-score", args=[marked.unit.public_id, score.public_id]),
        {"points": 0, "version": score.version},
        "application/json",
    )
    assert again.status_code == 400
    assert Score.objects.get(pk=score.pk).points == 3


def test_only_the_lead_decides(marked, client):
    client.force_login(marked.staff[Role.ASSESSMENT_LEAD])
    _sample(client, marked, items=[marked.items[0]])
    markings = _score_both(marked, client, [0, 1, 2, 3], [0, 1, 3, 3])
    client.force_login(marked.teacher)
    url = reverse("api-second-marking-decide", args=[marked.unit.public_id, markings[2].public_id])
    assert client.post(url, {"points": 3}, "application/json").status_code == 404
    assert Score.objects.get(pk=markings[2].score_id).points == 2


def test_the_second_assessor_saves_on_the_page_and_moves_on(marked, client):
    client.force_login(marked.staff[Role.ASSESSMENT_LEAD])
    _sample(client, marked, items=[marked.items[0]])
    marking = SecondMarking.objects.order_by("score_id").first()
    client.force_login(marked.teacher)
    page = reverse("grading-second-response", args=[marked.unit.public_id, marking.public_id])
    response = client.post(page, {"points": "2", "comment": "ok", "version": "0"})
    assert response.status_code == 302
    marking.refresh_from_db()
    assert (marking.points, marking.version) == (2, 1)
    stale = client.post(page, {"points": "1", "version": "0"})
    assert stale.status_code == 409
    assert SecondMarking.objects.get(pk=marking.pk).points == 2
