"""The standard world every test can ask for: two organisers, two school units each, a person in
every role at the first unit, two teaching groups, students, and an outsider."""

from __future__ import annotations

from dataclasses import dataclass, field

from schools.models import Person, SchoolUnit, TeachingGroup, User
from schools.roles import Role
from schools.services import permissions_sync, role_assign
from tests.factories import (
    OrganiserFactory,
    SchoolUnitFactory,
    TeachingGroupFactory,
    UserFactory,
    staff_member,
    student,
)

DUTY_FOR_ROLE = {
    Role.HEAD_TEACHER: "Rektor",
    Role.SCHOOL_ADMINISTRATOR: "Skoladministratör",
    Role.TEACHER: "Lärare",
}


@dataclass
class World:
    unit: SchoolUnit  # organiser A, unit 1: where the role holders work
    sibling_unit: SchoolUnit  # organiser A, unit 2
    other_org_unit: SchoolUnit  # organiser B, unit 1
    other_org_unit_2: SchoolUnit
    staff: dict[Role, User] = field(default_factory=dict)
    group_a: TeachingGroup | None = None
    group_b: TeachingGroup | None = None
    students_a: list[Person] = field(default_factory=list)
    students_b: list[Person] = field(default_factory=list)
    sibling_students: list[Person] = field(default_factory=list)
    other_org_students: list[Person] = field(default_factory=list)
    outsider: User | None = None  # a login with no transfer and no role anywhere
    sibling_head: User | None = None  # head teacher of the sibling unit


def build_world() -> World:
    org_a, org_b = OrganiserFactory(), OrganiserFactory(country="NO")
    world = World(
        unit=SchoolUnitFactory(organiser=org_a, name="Ekskolan"),
        sibling_unit=SchoolUnitFactory(organiser=org_a, name="Björkskolan"),
        other_org_unit=SchoolUnitFactory(organiser=org_b, name="Fjellskolen"),
        other_org_unit_2=SchoolUnitFactory(organiser=org_b, name="Fjordskolen"),
    )
    for role in Role:
        user = staff_member(
            world.unit, duty_role=DUTY_FOR_ROLE.get(role, "Annan personal"), username=role.value
        )
        role_assign(actor=None, person=user.person, school_unit=world.unit, role=role)
        world.staff[role] = user
    world.group_a = TeachingGroupFactory(school_unit=world.unit, name="9A")
    world.group_b = TeachingGroupFactory(school_unit=world.unit, name="9B")
    world.students_a = [student(world.unit) for _ in range(3)]
    world.students_b = [student(world.unit) for _ in range(3)]
    for person in world.students_a:
        world.group_a.members.add(person)
    for person in world.students_b:
        world.group_b.members.add(person)
    teacher = world.staff[Role.TEACHER]
    world.group_a.teachers.add(teacher.person)
    permissions_sync(person=teacher.person, school_unit=world.unit)
    world.sibling_students = [student(world.sibling_unit) for _ in range(2)]
    world.other_org_students = [student(world.other_org_unit) for _ in range(2)]
    world.sibling_head = staff_member(world.sibling_unit, duty_role="Rektor", username="sibhead")
    role_assign(
        actor=None,
        person=world.sibling_head.person,
        school_unit=world.sibling_unit,
        role=Role.HEAD_TEACHER,
    )
    world.outsider = UserFactory(username="outsider")
    return world
