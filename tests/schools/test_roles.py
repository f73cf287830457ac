import pytest

from schools.models import RoleAssignment
from schools.roles import Capability, Role, assignable_roles, capabilities_of
from schools.selectors import capabilities_at, students_of
from schools.services import RoleRefused, role_assign, role_remove
from tests.factories import PersonFactory, staff_member


def test_teacher_includes_proctor_and_assessor():
    assert capabilities_of(Role.PROCTOR) <= capabilities_of(Role.TEACHER)
    assert capabilities_of(Role.ASSESSOR) <= capabilities_of(Role.TEACHER)


def test_head_teacher_may_do_everything_any_role_may():
    everything = set().union(*(capabilities_of(r) for r in Role))
    assert capabilities_of(Role.HEAD_TEACHER) == everything


def test_other_staff_has_no_capabilities():
    assert capabilities_of(Role.OTHER_STAFF) == frozenset()


@pytest.mark.parametrize("role", sorted(set(Role) - {Role.OTHER_STAFF}))
def test_every_other_role_gives_it_staff_the_connectivity_page(role):
    assert Capability.VIEW_CONNECTIVITY in capabilities_of(role)


def test_test_administrator_cannot_assign_test_administrator():
    roles = assignable_roles(capabilities_of(Role.TEST_ADMINISTRATOR))
    assert Role.TEST_ADMINISTRATOR not in roles
    assert Role.TEACHER in roles


def test_no_role_may_grant_a_role_carrying_a_capability_it_may_not_grant():
    """Through Rektor or Skoladministratör a Provadministratör would reach its forbidden role."""
    for granter in Role:
        held = capabilities_of(granter)
        for role in assignable_roles(held):
            assert capabilities_of(role) <= held, (granter, role)
    roles = assignable_roles(capabilities_of(Role.TEST_ADMINISTRATOR))
    assert Role.HEAD_TEACHER not in roles
    assert Role.SCHOOL_ADMINISTRATOR not in roles


@pytest.mark.django_db
def test_guardian_permissions_follow_roles(world):
    caps = capabilities_at(user=world.staff[Role.PROCTOR], school_unit=world.unit)
    assert caps == {c.value for c in capabilities_of(Role.PROCTOR)}
    assert Capability.ASSESS.value not in caps


@pytest.mark.django_db
def test_person_not_transferred_to_unit_cannot_hold_role(world):
    substitute = PersonFactory(organiser=world.unit.organiser)
    with pytest.raises(RoleRefused):
        role_assign(
            actor=world.staff[Role.HEAD_TEACHER],
            person=substitute,
            school_unit=world.unit,
            role=Role.PROCTOR,
        )


@pytest.mark.django_db
def test_removing_a_role_of_a_person_of_another_unit_is_refused(world):
    # given the sibling unit's head teacher, who holds no role here
    elsewhere = world.sibling_head.person
    with pytest.raises(RoleRefused) as refusal:
        role_remove(
            actor=world.staff[Role.HEAD_TEACHER],
            person=elsewhere,
            school_unit=world.unit,
            role=Role.HEAD_TEACHER,
        )
    assert elsewhere.family_name not in str(refusal.value)
    assert RoleAssignment.objects.filter(person=elsewhere, school_unit=world.sibling_unit).exists()


@pytest.mark.django_db
def test_removing_a_role_of_a_person_of_the_unit_works(world):
    proctor = world.staff[Role.PROCTOR].person
    role_remove(
        actor=world.staff[Role.HEAD_TEACHER],
        person=proctor,
        school_unit=world.unit,
        role=Role.PROCTOR,
    )
    assert not RoleAssignment.objects.filter(person=proctor, role=Role.PROCTOR).exists()


@pytest.mark.django_db
def test_test_administrator_is_refused_assigning_test_administrator(world):
    colleague = staff_member(world.unit)
    with pytest.raises(RoleRefused):
        role_assign(
            actor=world.staff[Role.TEST_ADMINISTRATOR],
            person=colleague.person,
            school_unit=world.unit,
            role=Role.TEST_ADMINISTRATOR,
        )


@pytest.mark.django_db
def test_staff_see_no_students_of_another_school_unit(world):
    head = world.staff[Role.HEAD_TEACHER]
    assert list(students_of(user=head, school_unit=world.sibling_unit)) == []
    assert len(students_of(user=head, school_unit=world.unit)) == 6


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.HEAD_TEACHER, Role.SCHOOL_ADMINISTRATOR])
def test_test_administrator_cannot_raise_anyone_through_a_higher_role(world, role):
    actor = world.staff[Role.TEST_ADMINISTRATOR]
    for person in (staff_member(world.unit).person, actor.person):
        with pytest.raises(RoleRefused):
            role_assign(actor=actor, person=person, school_unit=world.unit, role=role)
        assert not RoleAssignment.objects.filter(person=person, role=role).exists()


@pytest.mark.django_db
def test_nobody_changes_their_own_roles(world):
    head = world.staff[Role.HEAD_TEACHER]
    with pytest.raises(RoleRefused, match="your own roles"):
        role_assign(actor=head, person=head.person, school_unit=world.unit, role=Role.ASSESSOR)
    with pytest.raises(RoleRefused, match="your own roles"):
        role_remove(actor=head, person=head.person, school_unit=world.unit, role=Role.HEAD_TEACHER)
    assert RoleAssignment.objects.filter(person=head.person, role=Role.HEAD_TEACHER).exists()
    assert not RoleAssignment.objects.filter(person=head.person, role=Role.ASSESSOR).exists()


@pytest.mark.django_db
def test_a_self_promotion_through_the_api_is_refused_in_words(client, world):
    actor = world.staff[Role.TEST_ADMINISTRATOR]
    client.force_login(actor)
    response = client.post(
        f"/api/v1/units/{world.unit.public_id}/role-assignments/",
        {"person": str(actor.person.public_id), "role": Role.HEAD_TEACHER.value},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not RoleAssignment.objects.filter(person=actor.person, role=Role.HEAD_TEACHER).exists()
