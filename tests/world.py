"""The standard world every test can ask for: two organisers, two school units each, a person in
every role at the first unit, two teaching groups, students, and an outsider."""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field

from django.utils import timezone

from delivery.models import Attempt
from exams.models import SittingProctor, SittingStudent
from results.models import ExportJob, FollowUpRequest, Measure, MeasureKind, ResultSet
from schools.models import (
    OrganiserApiToken,
    Person,
    RoleAssignment,
    SchoolUnit,
    TeachingGroup,
    TransferRun,
    TransferSource,
    User,
)
from schools.roles import Role
from schools.services import permissions_sync, role_assign
from tests.factories import (
    AdjustmentFactory,
    AssignmentFactory,
    ExemptionFactory,
    OrganiserFactory,
    SchoolUnitFactory,
    SittingFactory,
    TeachingGroupFactory,
    UserFactory,
    staff_member,
    student,
)
from tests.grading.desk_helpers import seed_desk_objects

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


def seed_unit(unit, subtest, norwegian_subtest, *, user: User | None = None) -> dict:
    """One object of every kind a route can name, at `unit`: a head teacher, a group, a student
    placed in a sitting with a proctor and an attempt, an assignment, an adjustment, an
    exemption, a transfer run and an API token of the organiser, the grading desk's objects,
    a result set with a measure and an export job, and a follow-up request of the organiser.
    The desk's objects and the export job are `user`'s (by default the new head teacher's), as
    only their own assessor or requester may open them. Called again, one more of each (the
    query-count tests grow the lists this way)."""
    member = staff_member(unit, duty_role="Rektor")
    role_assign(actor=None, person=member.person, school_unit=unit, role=Role.HEAD_TEACHER)
    group = TeachingGroupFactory(school_unit=unit)
    pupil = student(unit)
    group.members.add(pupil)
    sitting = SittingFactory(school_unit=unit, subtest=subtest, starts_at=timezone.now())
    SittingStudent.objects.create(sitting=sitting, person=pupil)
    SittingProctor.objects.create(sitting=sitting, person=member.person)
    return {
        "unit": unit,
        "group": group,
        **_seed_grading_and_results(unit, subtest, pupil, group, user or member),
        "room": sitting.room,
        "sitting": sitting,
        "student": pupil,
        "proctor": member.person,
        "attempt": Attempt.objects.create(sitting=sitting, person=pupil),
        "assignment": AssignmentFactory(school_unit=unit, subtest=subtest, person=pupil),
        "role_assignment": RoleAssignment.objects.get(person=member.person, school_unit=unit),
        "adjustment": AdjustmentFactory(
            school_unit=unit, person=pupil, test=subtest.test, decided_by=member.person
        ),
        "exemption": ExemptionFactory(
            school_unit=unit, test=norwegian_subtest.test, decided_by=member.person
        ),
        "transfer_run": TransferRun.objects.create(
            organiser=unit.organiser, source=TransferSource.XLSX, school_unit=unit
        ),
        "token": OrganiserApiToken.objects.create(
            organiser=unit.organiser,
            name=f"Token of {unit.name}",
            prefix=secrets.token_hex(4),
            token_hash=secrets.token_hex(32),
        ),
    }


def _seed_grading_and_results(unit, subtest, pupil, group, user) -> dict:
    """The grading desk's objects (a graded subtest with a score assigned to `user`, a machine
    score, a second marking and an entry upload), a result set of the graded test with a
    measure and an export job of `user`, and a follow-up request of the unit's organiser."""
    desk = seed_desk_objects(unit, user=user)
    graded = desk["score"].item.subtest
    result_set = ResultSet.objects.create(school_unit=unit, test=graded.test)
    return {
        **desk,
        "grading_subtest": graded,
        "organiser": unit.organiser,
        "result_set": result_set,
        "measure": Measure.objects.create(
            school_unit=unit,
            person=pupil,
            subtest=subtest,
            kind=MeasureKind.objects.filter(organiser__isnull=True).first(),
            starts_on=datetime.date(2027, 4, 1),
        ),
        "job": ExportJob.objects.create(
            requested_by=user,
            school_unit=unit,
            result_set=result_set,
            group=group,
            kind="csv",
            expires_at=timezone.now() + datetime.timedelta(days=1),
        ),
        "follow_up": FollowUpRequest.objects.create(
            organiser=unit.organiser,
            test=graded.test,
            question="Which measures did you start?",
            due_on=datetime.date(2027, 6, 1),
        ),
    }
