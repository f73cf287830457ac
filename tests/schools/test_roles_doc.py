"""docs/roles.md shows the role table; these tests keep it equal to schools.roles.ROLE_TABLE,
and prove the role rules a user would notice."""

from pathlib import Path

import pytest

from provplattform.models import AuditEvent
from schools import selectors
from schools.models import RoleAssignment
from schools.roles import (
    ROLE_TABLE,
    Capability,
    Role,
    assignable_roles,
    capabilities_of,
    role_for_duty,
)
from schools.services import RoleRefused, permissions_sync, role_assign, role_remove
from tests.factories import DutyFactory, PersonFactory, UserFactory, staff_member

DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
LABEL_TO_ROLE = {d.label_sv: r for r, d in ROLE_TABLE.items()}


def _doc_rows() -> list[list[str]]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Role | Code |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _names(cell: str) -> set[str]:
    return set() if cell == "—" else {part.strip().strip("`") for part in cell.split(",")}


def test_roles_doc_lists_every_role_once_in_table_order():
    assert [row[1].strip("`") for row in _doc_rows()] == [r.value for r in ROLE_TABLE]


@pytest.mark.parametrize("role", list(ROLE_TABLE))
def test_roles_doc_row_matches_the_role_table(role):
    row = next(r for r in _doc_rows() if r[1].strip("`") == role.value)
    label, _code, includes, caps, may_assign = row
    definition = ROLE_TABLE[role]
    assert label == definition.label_sv
    assert {LABEL_TO_ROLE[n] for n in _names(includes)} == set(definition.includes)
    assert {Capability(c) for c in _names(caps)} == capabilities_of(role)
    assert {LABEL_TO_ROLE[n] for n in _names(may_assign)} == assignable_roles(capabilities_of(role))


def test_roles_doc_explains_every_capability():
    text = DOC.read_text(encoding="utf-8")
    for capability in Capability:
        assert f"| `{capability.value}` |" in text


@pytest.mark.parametrize(
    ("duty", "role"),
    [
        ("Rektor", Role.HEAD_TEACHER),
        ("Skoladministratör", Role.SCHOOL_ADMINISTRATOR),
        ("Lärare", Role.TEACHER),
        ("Förstelärare", Role.TEACHER),
        ("Vaktmästare", Role.OTHER_STAFF),
        ("Elevassistent", Role.OTHER_STAFF),
    ],
)
def test_roles_follow_the_organisers_duties(duty, role):
    assert role_for_duty(duty) == role


def test_teacher_sees_results_only_of_own_groups(world):
    teacher = world.staff[Role.TEACHER]
    assert set(selectors.teaching_groups_with_results(teacher)) == {world.group_a}


def test_teacher_who_starts_teaching_a_group_sees_its_results(world):
    teacher = world.staff[Role.TEACHER]
    world.group_b.teachers.add(teacher.person)
    permissions_sync(person=teacher.person, school_unit=world.unit)
    assert set(selectors.teaching_groups_with_results(teacher)) == {world.group_a, world.group_b}


def test_head_teacher_sees_results_of_every_group_of_the_unit_only(world):
    groups = set(selectors.teaching_groups_with_results(world.staff[Role.HEAD_TEACHER]))
    assert groups == {world.group_a, world.group_b}


def test_assessor_and_proctor_see_no_group_results(world):
    for role in (Role.ASSESSOR, Role.PROCTOR, Role.ASSESSMENT_LEAD, Role.OTHER_STAFF):
        assert not selectors.teaching_groups_with_results(world.staff[role]).exists()


def test_only_transferred_persons_hold_roles(world):
    # given a substitute with a login but no transfer into the unit, and staff of the sibling unit
    substitute = PersonFactory(organiser=world.unit.organiser)
    UserFactory(person=substitute)
    elsewhere = staff_member(world.sibling_unit).person
    for person in (substitute, elsewhere):
        # when / then
        with pytest.raises(RoleRefused):
            role_assign(
                actor=world.staff[Role.HEAD_TEACHER],
                person=person,
                school_unit=world.unit,
                role=Role.PROCTOR,
            )
        assert not RoleAssignment.objects.filter(person=person, school_unit=world.unit).exists()
    # and once transferred, the same person may
    DutyFactory(person=substitute, school_unit=world.unit, duty_role="Vikarie")
    role_assign(
        actor=world.staff[Role.HEAD_TEACHER],
        person=substitute,
        school_unit=world.unit,
        role=Role.PROCTOR,
    )
    assert selectors.user_has_capability(
        user=substitute.user, school_unit=world.unit, capability=Capability.PROCTOR
    )


def test_every_role_change_is_audited_with_who_when_before_after(world):
    head = world.staff[Role.HEAD_TEACHER]
    person = world.staff[Role.ASSESSOR].person
    start = AuditEvent.objects.count()

    role_assign(actor=head, person=person, school_unit=world.unit, role=Role.PROCTOR)
    role_remove(actor=head, person=person, school_unit=world.unit, role=Role.ASSESSOR)

    events = list(AuditEvent.objects.order_by("id")[start:])
    assert [(e.action, e.actor, e.before, e.after) for e in events] == [
        ("role.assign", head, ["assessor"], ["assessor", "proctor"]),
        ("role.remove", head, ["assessor", "proctor"], ["proctor"]),
    ]
    assert all(e.at is not None for e in events)
    assert all(e.target_id == str(person.public_id) for e in events)
    assert all(e.scope == world.unit.public_id for e in events)


def test_refused_role_change_leaves_no_audit_row(world):
    start = AuditEvent.objects.count()
    with pytest.raises(RoleRefused):
        role_assign(
            actor=world.staff[Role.TEACHER],
            person=world.staff[Role.OTHER_STAFF].person,
            school_unit=world.unit,
            role=Role.HEAD_TEACHER,
        )
    assert AuditEvent.objects.count() == start


def test_roles_doc_names_exactly_the_capabilities_without_a_page():
    # The doc says which capabilities have no page yet; the probes know: those checked only at
    # guardian/selector level. A page added later makes this fail until the doc says so.
    from tests.permission_probes import is_selector_level

    text = DOC.read_text(encoding="utf-8")
    paragraph = text[text.index("**Not usable yet.**") :].split("have **no pages", 1)[0]
    named = {Capability(c) for c in paragraph.split("`")[1::2]}
    without_page = {c for c in Capability if is_selector_level(c)}
    assert named == without_page
