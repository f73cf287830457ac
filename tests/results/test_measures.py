"""Follow-up measures and the organiser's follow-up requests: counts only, never a ranking."""

import datetime

import pytest
from django.utils import timezone

from exams.models import Subtest
from provplattform.models import AuditEvent
from results.models import MeasureKind
from schools.models import OrganiserAdministrator
from schools.roles import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _kind():
    return MeasureKind.objects.filter(organiser__isnull=True).first()


def _measure(client, world, person, subtest):
    return client.post(
        f"/api/v1/units/{world.unit.public_id}/results/measures/",
        {
            "student": str(person.public_id),
            "subtest": str(subtest.public_id),
            "kind": str(_kind().public_id),
            "starts_on": "2027-04-10",
            "note": "Lesegruppe tre ganger i uka",
        },
        content_type="application/json",
    )


def test_teacher_records_a_measure_for_own_student_not_another_groups(client, world, sat):
    subtest = Subtest.objects.get(code="L1", test=sat[world.unit].test)
    client.login(username=world.staff[Role.TEACHER].username, password=PASSWORD)
    response = _measure(client, world, world.students_a[0], subtest)
    assert response.status_code == 201 and response.json()["status"] == "planned"
    assert AuditEvent.objects.filter(action="measure.recorded").count() == 1
    assert _measure(client, world, world.students_b[0], subtest).status_code == 404
    assert _measure(client, world, world.sibling_students[0], subtest).status_code == 404
    measure = response.json()["id"]
    changed = client.post(
        f"/api/v1/units/{world.unit.public_id}/results/measures/{measure}/status/",
        {"status": "started"},
        content_type="application/json",
    )
    assert changed.json()["status"] == "started"


def test_assessor_cannot_record_measures(client, world, sat):
    subtest = Subtest.objects.get(code="L1", test=sat[world.unit].test)
    client.login(username=world.staff[Role.ASSESSOR].username, password=PASSWORD)
    assert _measure(client, world, world.students_a[0], subtest).status_code == 404


def test_follow_up_request_answered_from_recorded_measures(client, world, sat):
    test = sat[world.unit].test
    subtest = Subtest.objects.get(code="L1", test=test)
    organiser_admin = UserFactory()
    OrganiserAdministrator.objects.create(user=organiser_admin, organiser=world.unit.organiser)
    # the organiser asks
    client.login(username=organiser_admin.username, password=PASSWORD)
    base = f"/api/v1/organisers/{world.unit.organiser.public_id}/follow-up/"
    sent = client.post(
        base,
        {
            "test": str(test.public_id),
            "subtest": str(subtest.public_id),
            "question": "Hvilke tiltak har dere satt i gang?",
            "due_on": str(timezone.localdate() + datetime.timedelta(days=14)),
        },
        content_type="application/json",
    )
    assert sent.status_code == 201
    follow_up = sent.json()["id"]
    # the school records a measure and answers
    client.login(username=world.staff[Role.HEAD_TEACHER].username, password=PASSWORD)
    below = world.students_a[0]  # 0 points in L1: below
    assert _measure(client, world, below, subtest).status_code == 201
    answer = client.post(
        f"/api/v1/units/{world.unit.public_id}/results/follow-up-answers/",
        {"follow_up": follow_up, "note": "Lesegrupper fra uke 16"},
        content_type="application/json",
    )
    assert answer.status_code == 200 and answer.json()["with_measures"] == 1
    # the organiser sees counts per school in name order, and who answered; no names, no scores
    client.login(username=organiser_admin.username, password=PASSWORD)
    rows = client.get(f"{base}{follow_up}/").json()
    assert [r["school_unit"] for r in rows] == sorted(r["school_unit"] for r in rows)
    by_name = {r["school_unit"]: r for r in rows}
    assert by_name[world.unit.name]["answered"] is True
    assert by_name[world.sibling_unit.name]["answered"] is False
    assert set(by_name[world.unit.name]["counts"]) == {"below", "just_above", "with_measures"}
    body = client.get(f"{base}{follow_up}/").content.decode()
    assert all(p.full_name not in body for p in world.students_a + world.students_b)


def test_other_organisers_admin_cannot_see_or_send(client, world, sat):
    stranger = UserFactory()
    OrganiserAdministrator.objects.create(user=stranger, organiser=world.other_org_unit.organiser)
    client.login(username=stranger.username, password=PASSWORD)
    base = f"/api/v1/organisers/{world.unit.organiser.public_id}/follow-up/"
    assert client.get(base).status_code == 404


def test_refusals_of_measures_and_requests(client, world, sat):
    subtest = Subtest.objects.get(code="L1", test=sat[world.unit].test)
    client.login(username=world.staff[Role.HEAD_TEACHER].username, password=PASSWORD)
    measure = _measure(client, world, world.students_a[0], subtest).json()["id"]
    # an unknown status is refused with the known ones named
    refused = client.post(
        f"/api/v1/units/{world.unit.public_id}/results/measures/{measure}/status/",
        {"status": "forgotten"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "evaluated" in refused.json()["detail"]
    # another organiser's own kind of measure is not found
    foreign = MeasureKind.objects.create(organiser=world.other_org_unit.organiser, name="Eget")
    response = client.post(
        f"/api/v1/units/{world.unit.public_id}/results/measures/",
        {
            "student": str(world.students_a[0].public_id),
            "subtest": str(subtest.public_id),
            "kind": str(foreign.public_id),
            "starts_on": "2027-04-10",
        },
        content_type="application/json",
    )
    assert response.status_code == 404
    # a teacher answers no follow-up request for the school
    client.login(username=world.staff[Role.TEACHER].username, password=PASSWORD)
    answer = client.post(
        f"/api/v1/units/{world.unit.public_id}/results/follow-up-answers/",
        {"follow_up": str(measure)},
        content_type="application/json",
    )
    assert answer.status_code == 404


def test_organiser_extends_the_list_of_kinds(world):
    from provplattform.errors import Refused
    from results.measures import measure_kind_add, measure_kinds_for

    organiser = world.unit.organiser
    added = measure_kind_add(actor=None, organiser=organiser, name="Sommerskole")
    assert added in measure_kinds_for(organiser)
    assert added not in measure_kinds_for(world.other_org_unit.organiser)
    with pytest.raises(Refused):
        measure_kind_add(actor=None, organiser=organiser, name="sommerskole")


def test_school_sees_the_request_on_its_dashboard_and_answers_there(client, world, sat):
    from results.measures import follow_up_request_send
    from results.models import FollowUpAnswer

    test = sat[world.unit].test
    follow_up_request_send(
        actor=None,
        organiser=world.unit.organiser,
        test=test,
        subtest=None,
        question="Hvilke tiltak har dere satt i gang i lesing?",
        due_on=timezone.localdate() + datetime.timedelta(days=7),
    )
    dashboard = f"/units/{world.unit.public_id}/"
    client.login(username=world.staff[Role.TEACHER].username, password=PASSWORD)
    assert "Hvilke tiltak" not in client.get(dashboard).content.decode()
    client.login(username=world.staff[Role.HEAD_TEACHER].username, password=PASSWORD)
    body = client.get(dashboard).content.decode()
    assert "Hvilke tiltak har dere satt i gang i lesing?" in body
    request = FollowUpAnswer._meta.get_field("request").related_model.objects.get()
    response = client.post(
        f"/units/{world.unit.public_id}/results/follow-up-answers/",
        {"follow_up": str(request.public_id), "note": "Lesegrupper"},
    )
    assert response.status_code == 302
    answer = FollowUpAnswer.objects.get(school_unit=world.unit)
    assert answer.note == "Lesegrupper" and set(answer.counts) == {
        "below",
        "just_above",
        "with_measures",
    }


def test_organiser_pages_send_a_request_and_show_schools_in_name_order(client, world, sat):
    from results.models import FollowUpRequest

    test = sat[world.unit].test
    test.status = "published"
    test.save()
    admin = UserFactory()
    OrganiserAdministrator.objects.create(user=admin, organiser=world.unit.organiser)
    client.login(username=admin.username, password=PASSWORD)
    assert client.get("/follow-up/").status_code == 200
    response = client.post(
        "/follow-up/",
        {"test": str(test.public_id), "question": "Hvilke tiltak?", "due_on": "2027-05-01"},
    )
    assert response.status_code == 302
    sent = FollowUpRequest.objects.get()
    body = client.get(f"/follow-up/{sent.public_id}/").content.decode()
    assert body.index(world.sibling_unit.name) < body.index(world.unit.name)  # name order
    assert all(p.full_name not in body for p in world.students_a)
    # a head teacher, and another organiser's administrator, find nothing here
    client.login(username=world.staff[Role.HEAD_TEACHER].username, password=PASSWORD)
    assert client.get("/follow-up/").status_code == 404
    stranger = UserFactory()
    OrganiserAdministrator.objects.create(user=stranger, organiser=world.other_org_unit.organiser)
    client.login(username=stranger.username, password=PASSWORD)
    assert client.get(f"/follow-up/{sent.public_id}/").status_code == 404


def test_teacher_records_a_measure_on_the_student_page(client, world, sat):
    rs = sat[world.unit]
    person = world.students_a[0]
    subtest = Subtest.objects.get(code="L1", test=rs.test)
    client.login(username=world.staff[Role.TEACHER].username, password=PASSWORD)
    page = f"/units/{world.unit.public_id}/results/{rs.public_id}/students/{person.public_id}/"
    response = client.post(
        f"{page}measures/",
        {
            "subtest": str(subtest.public_id),
            "kind": str(_kind().public_id),
            "starts_on": "2027-04-12",
            "status": "started",
            "note": "Lesegruppe mandag",
        },
    )
    assert response.status_code == 302
    assert "Lesegruppe mandag" in client.get(page).content.decode()
    # a student of another group: not found
    other = world.students_b[0]
    url = f"/units/{world.unit.public_id}/results/{rs.public_id}/students/{other.public_id}/"
    assert client.post(f"{url}measures/", {"starts_on": "2027-04-12"}).status_code == 404
    # a refused one (no kind) is told on the page
    response = client.post(
        f"{page}measures/", {"subtest": str(subtest.public_id), "starts_on": "2027-04-12"}
    )
    assert response.status_code == 302


def test_organiser_adds_a_kind_of_measure_on_its_page(client, world):
    admin = UserFactory()
    OrganiserAdministrator.objects.create(user=admin, organiser=world.unit.organiser)
    client.login(username=admin.username, password=PASSWORD)
    assert client.post("/follow-up/", {"kind_name": "Sommerskole"}).status_code == 302
    assert MeasureKind.objects.filter(organiser=world.unit.organiser, name="Sommerskole").exists()
    # the same name again is refused with the reason on the page
    body = client.post("/follow-up/", {"kind_name": "sommerskole"}).content.decode()
    assert "already on the list" in body


def test_the_dashboard_counts_each_follow_up_request_as_the_answer_would(client, world, sat):
    # The dashboard counts every request at once (no query per request): it must agree with
    # the counts taken for one request when the school answers.
    from results.measures import follow_up_request_send
    from results.models import FollowUpRequest
    from results.selectors import follow_up_counts, follow_up_counts_of

    test = sat[world.unit].test
    first, second = test.subtests.order_by("position")
    client.login(username=world.staff[Role.TEACHER].username, password=PASSWORD)
    assert _measure(client, world, world.students_a[0], first).status_code == 201
    assert _measure(client, world, world.students_a[1], second).status_code == 201
    for subtest in (None, first, second):
        follow_up_request_send(
            actor=None,
            organiser=world.unit.organiser,
            test=test,
            subtest=subtest,
            question="Hvilke tiltak?",
            due_on=timezone.localdate() + datetime.timedelta(days=7),
        )
    requests = list(FollowUpRequest.objects.all())
    counts = follow_up_counts_of(school_unit=world.unit, requests=requests)
    for request in requests:
        assert counts[request.id] == follow_up_counts(
            school_unit=world.unit, test=request.test, subtest=request.subtest
        )
    assert any(c["below"] for c in counts.values())
    assert any(c["with_measures"] for c in counts.values())
