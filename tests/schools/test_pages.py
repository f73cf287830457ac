import pytest

from provplattform.models import AuditEvent
from schools.models import OrganiserAdministrator, RoleAssignment
from schools.roles import Role
from tests.factories import PersonFactory, UserFactory, staff_member, student


def _url(unit, page=""):
    return f"/units/{unit.public_id}/{page}"


@pytest.fixture
def head(world, client):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    return client


def test_picker_lists_units_where_the_user_holds_a_role(world, client):
    client.force_login(world.staff[Role.PROCTOR])

    page = client.get("/units/").content.decode()

    assert world.unit.name in page
    assert world.sibling_unit.name not in page
    assert world.other_org_unit.name not in page


def test_home_goes_straight_to_the_only_unit(world, client):
    client.force_login(world.staff[Role.TEACHER])
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == _url(world.unit)


def test_organiser_administrator_sees_every_unit_of_their_organiser_only(world, client):
    admin = UserFactory(username="orgadmin")
    OrganiserAdministrator.objects.create(user=admin, organiser=world.unit.organiser)
    client.force_login(admin)

    page = client.get("/units/").content.decode()

    assert world.unit.name in page and world.sibling_unit.name in page
    assert world.other_org_unit.name not in page
    assert client.get(_url(world.sibling_unit)).status_code == 200
    assert client.get(_url(world.other_org_unit)).status_code == 404


def test_dashboard_of_another_schools_unit_is_not_found(world, head):
    assert head.get(_url(world.unit)).status_code == 200
    assert head.get(_url(world.sibling_unit)).status_code == 404
    assert head.get(_url(world.other_org_unit)).status_code == 404


def test_other_staff_sees_the_dashboard_but_no_student_or_staff_page(world, client):
    client.force_login(world.staff[Role.OTHER_STAFF])
    page = client.get(_url(world.unit))
    assert page.status_code == 200
    assert page.context["capabilities"] == frozenset()
    assert page.context["student_count"] is None
    for name in ("students/", "staff/", "groups/"):
        assert client.get(_url(world.unit, name)).status_code == 404


def test_students_page_masks_civic_numbers_and_hides_protected_details(world, head):
    visible = world.students_a[0]
    visible.civic_number = "201001012386"
    visible.save()
    hidden = world.students_a[1]
    hidden.civic_number = "201001022385"
    hidden.protected_identity = True
    hidden.save()

    page = head.get(_url(world.unit, "students/")).content.decode()

    assert visible.full_name in page
    assert visible.masked_civic_number in page
    assert "201001012386" not in page
    assert "201001022385" not in page and hidden.masked_civic_number not in page
    assert hidden.full_name in page


def test_student_search_by_name_and_htmx_partial(world, head):
    target = world.students_b[2]

    full = head.get(_url(world.unit, "students/"), {"q": target.family_name})
    partial = head.get(
        _url(world.unit, "students/"),
        {"q": target.family_name},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="student-results",
    )

    assert target.full_name in full.content.decode()
    assert world.students_a[0].full_name not in full.content.decode()
    assert "<html" not in partial.content.decode()
    assert target.full_name in partial.content.decode()


def test_students_page_never_lists_students_of_other_units(world, head):
    page = head.get(_url(world.unit, "students/")).content.decode()
    for other in world.sibling_students + world.other_org_students:
        assert other.full_name not in page


def test_students_page_is_paginated_with_bounded_queries(
    world, head, django_assert_max_num_queries
):
    for _ in range(40):
        student(world.unit)
    with django_assert_max_num_queries(8):
        first = head.get(_url(world.unit, "students/"))
    with django_assert_max_num_queries(8):
        second = head.get(_url(world.unit, "students/"), {"page": 2})
    assert first.context["page"].paginator.count == 46
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 21


def test_staff_page_queries_do_not_grow_with_staff(world, head, django_assert_max_num_queries):
    for _ in range(15):
        staff_member(world.unit, duty_role="Lärare")
    with django_assert_max_num_queries(12):
        response = head.get(_url(world.unit, "staff/"))
    assert response.status_code == 200


def test_groups_page_shows_members_and_teachers_with_bounded_queries(
    world, head, django_assert_max_num_queries
):
    # 8 for the page, 1 for the menu's organiser-administrator entries
    with django_assert_max_num_queries(9):
        page = head.get(_url(world.unit, "groups/")).content.decode()
    assert "9A" in page and "9B" in page
    assert world.staff[Role.TEACHER].person.full_name in page
    assert world.students_a[0].full_name in page


def test_head_teacher_assigns_a_role_and_the_change_shows_in_the_history(world, head):
    person = world.staff[Role.OTHER_STAFF].person

    response = head.post(
        _url(world.unit, "staff/assign/"),
        {"person": person.public_id, "role": Role.PROCTOR.value},
        follow=True,
    )

    assert response.status_code == 200
    assert RoleAssignment.objects.filter(
        person=person, school_unit=world.unit, role=Role.PROCTOR
    ).exists()
    history = response.context["history"]
    assert history[0]["person"] == person.full_name
    assert history[0]["actor"] == world.staff[Role.HEAD_TEACHER].username


def test_test_administrator_is_told_why_they_cannot_assign_test_administrator(world, client):
    client.force_login(world.staff[Role.TEST_ADMINISTRATOR])
    person = world.staff[Role.OTHER_STAFF].person

    response = client.post(
        _url(world.unit, "staff/assign/"),
        {"person": person.public_id, "role": Role.TEST_ADMINISTRATOR.value},
    )

    assert response.status_code == 403
    text = [str(m) for m in response.context["messages"]]
    assert any("Provadministratör" in t or "Test administrator" in t for t in text)
    assert not RoleAssignment.objects.filter(person=person, role=Role.TEST_ADMINISTRATOR).exists()


def test_person_not_transferred_to_the_unit_is_not_found(world, head):
    substitute = PersonFactory(organiser=world.unit.organiser)

    response = head.post(
        _url(world.unit, "staff/assign/"),
        {"person": substitute.public_id, "role": Role.PROCTOR.value},
    )

    assert response.status_code == 404
    assert not substitute.role_assignments.exists()
    assert not AuditEvent.objects.filter(target_id=str(substitute.public_id)).exists()


def test_student_of_the_unit_is_refused_a_role_in_words(world, head):
    # given a student enrolled here: a person of this unit, but not transferred as staff
    pupil = world.students_a[0]

    response = head.post(
        _url(world.unit, "staff/assign/"), {"person": pupil.public_id, "role": "proctor"}
    )

    assert response.status_code == 403
    text = " ".join(str(m) for m in response.context["messages"])
    assert "not transferred" in text
    assert not pupil.role_assignments.exists()


def test_person_of_another_organiser_is_not_found(world, head):
    foreign = world.other_org_students[0]
    response = head.post(
        _url(world.unit, "staff/assign/"), {"person": foreign.public_id, "role": "proctor"}
    )
    assert response.status_code == 404


def test_head_teacher_removes_a_role(world, head):
    person = world.staff[Role.PROCTOR].person
    head.post(_url(world.unit, "staff/remove/"), {"person": person.public_id, "role": "proctor"})
    assert not RoleAssignment.objects.filter(person=person, role=Role.PROCTOR).exists()


@pytest.mark.parametrize("page", ["staff/assign/", "staff/remove/"])
def test_person_of_another_unit_is_not_found_and_not_named(world, head, page):
    # given a member of staff of the sibling unit (same organiser)
    elsewhere = world.sibling_head.person
    # when the head teacher here tries to give them a role here, or take one away
    response = head.post(_url(world.unit, page), {"person": elsewhere.public_id, "role": "proctor"})
    # then the person is not found, as a missing one, and nothing reveals who they are
    assert response.status_code == 404
    assert elsewhere.family_name not in response.content.decode()
    follow = head.get(_url(world.unit, "staff/")).content.decode()
    assert elsewhere.family_name not in follow
    assert not elsewhere.role_assignments.filter(school_unit=world.unit).exists()
    assert not AuditEvent.objects.filter(
        target_id=str(elsewhere.public_id), scope=world.unit.public_id
    ).exists()


def test_removing_a_role_of_a_person_of_the_unit_names_them(world, head):
    person = world.staff[Role.PROCTOR].person

    response = head.post(
        _url(world.unit, "staff/remove/"), {"person": person.public_id, "role": "proctor"}
    )

    assert response.status_code == 302
    page = head.get(response["Location"]).content.decode()
    assert person.family_name in page
