"""The one place that defines the school roles and what each may do.

Every permission check in the platform asks this table (through guardian permissions that the
role services keep in step with it). `docs/roles.md` shows the same table; a test compares them.
Inheritance is data: a role's capabilities are its own plus those of every role it includes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Capability(StrEnum):
    """Codenames of the object permissions on SchoolUnit."""

    VIEW_STUDENTS = "view_students"
    VIEW_STAFF = "view_staff"
    ASSIGN_ROLES = "assign_roles"
    ASSIGN_TEST_ADMIN_ROLE = "assign_test_admin_role"
    ADMINISTER_TESTS = "administer_tests"  # assign tests, rooms, sittings, registration
    ENTER_ADJUSTMENTS = "enter_adjustments"
    DECIDE_EXEMPTIONS = "decide_exemptions"
    PROCTOR = "proctor"
    VIEW_DAY_PASSWORD = "view_day_password"
    VIEW_CONNECTIVITY = "view_connectivity"
    PREPARE_GRADING = "prepare_grading"
    ASSESS = "assess"
    VIEW_ALL_RESULTS = "view_all_results"
    EXPORT_RESULTS = "export_results"
    VIEW_GROUP_RESULTS = "view_group_results"


class Role(StrEnum):
    HEAD_TEACHER = "head_teacher"
    SCHOOL_ADMINISTRATOR = "school_administrator"
    TEST_ADMINISTRATOR = "test_administrator"
    ASSESSMENT_LEAD = "assessment_lead"
    PROCTOR = "proctor"
    ASSESSOR = "assessor"
    TEACHER = "teacher"
    OTHER_STAFF = "other_staff"


@dataclass(frozen=True)
class RoleDefinition:
    role: Role
    label_sv: str
    label: object  # lazy translation
    own: frozenset[Capability] = field(default_factory=frozenset)
    includes: tuple[Role, ...] = ()


C = Capability
_ADMIN_CAPS = frozenset(
    {
        C.VIEW_STUDENTS,
        C.VIEW_STAFF,
        C.ASSIGN_ROLES,
        C.ADMINISTER_TESTS,
        C.ENTER_ADJUSTMENTS,
        C.DECIDE_EXEMPTIONS,
        C.VIEW_DAY_PASSWORD,
        C.PREPARE_GRADING,
        C.VIEW_ALL_RESULTS,
        C.EXPORT_RESULTS,
    }
)
_ALL_ROLES = tuple(Role)

ROLE_TABLE: dict[Role, RoleDefinition] = {
    Role.HEAD_TEACHER: RoleDefinition(
        Role.HEAD_TEACHER,
        "Rektor",
        _("Head teacher"),
        own=_ADMIN_CAPS | {C.ASSIGN_TEST_ADMIN_ROLE},
        includes=(Role.ASSESSMENT_LEAD, Role.TEACHER),
    ),
    Role.SCHOOL_ADMINISTRATOR: RoleDefinition(
        Role.SCHOOL_ADMINISTRATOR,
        "Skoladministratör",
        _("School administrator"),
        own=_ADMIN_CAPS | {C.ASSIGN_TEST_ADMIN_ROLE},
        includes=(Role.ASSESSMENT_LEAD, Role.TEACHER),
    ),
    Role.TEST_ADMINISTRATOR: RoleDefinition(
        Role.TEST_ADMINISTRATOR,
        "Provadministratör",
        _("Test administrator"),
        own=_ADMIN_CAPS,
        includes=(Role.ASSESSMENT_LEAD, Role.TEACHER),
    ),
    Role.ASSESSMENT_LEAD: RoleDefinition(
        Role.ASSESSMENT_LEAD,
        "Bedömningsledare",
        _("Assessment lead"),
        own=frozenset({C.VIEW_STUDENTS, C.PREPARE_GRADING, C.VIEW_CONNECTIVITY}),
    ),
    Role.PROCTOR: RoleDefinition(
        Role.PROCTOR,
        "Provledare",
        _("Proctor"),
        own=frozenset({C.VIEW_STUDENTS, C.PROCTOR, C.VIEW_DAY_PASSWORD, C.VIEW_CONNECTIVITY}),
    ),
    Role.ASSESSOR: RoleDefinition(
        Role.ASSESSOR,
        "Bedömare",
        _("Assessor"),
        own=frozenset({C.VIEW_STUDENTS, C.ASSESS, C.VIEW_CONNECTIVITY}),
    ),
    Role.TEACHER: RoleDefinition(
        Role.TEACHER,
        "Lärare",
        _("Teacher"),
        own=frozenset({C.VIEW_GROUP_RESULTS}),
        includes=(Role.PROCTOR, Role.ASSESSOR),
    ),
    # Nothing at all until someone gives them another role: IT staff too get the connectivity
    # page by being given one (every other role grants it).
    Role.OTHER_STAFF: RoleDefinition(
        Role.OTHER_STAFF,
        "Övrig skolpersonal",
        _("Other staff"),
    ),
}


def capabilities_of(role: Role | str) -> frozenset[Capability]:
    """A role's own capabilities plus those of every role it includes, transitively."""
    definition = ROLE_TABLE[Role(role)]
    caps = set(definition.own)
    for included in definition.includes:
        caps |= capabilities_of(included)
    return frozenset(caps)


def capabilities_of_roles(roles) -> frozenset[Capability]:
    caps: set[Capability] = set()
    for role in roles:
        caps |= capabilities_of(role)
    return frozenset(caps)


def assignable_roles(capabilities) -> frozenset[Role]:
    """Which roles someone with `capabilities` may assign.

    Provadministratör needs its own right, and nobody may grant a role that carries a capability
    they do not hold themselves: a Provadministratör cannot make anyone Rektor or
    Skoladministratör and so reach, through them, the role it may not assign.
    """
    if C.ASSIGN_ROLES not in capabilities:
        return frozenset()
    held = frozenset(capabilities)
    return frozenset(
        r
        for r in _ALL_ROLES
        if capabilities_of(r) <= held
        and (r != Role.TEST_ADMINISTRATOR or C.ASSIGN_TEST_ADMIN_ROLE in held)
    )


# Duty roles from the organiser's transfer (SS 12000 dutyRole) that imply a school role.
DUTY_ROLE_TO_ROLE: dict[str, Role] = {
    "Rektor": Role.HEAD_TEACHER,
    "Skoladministratör": Role.SCHOOL_ADMINISTRATOR,
    "Lärare": Role.TEACHER,
    "Förstelärare": Role.TEACHER,
    "Speciallärare/specialpedagog": Role.TEACHER,
}


def role_for_duty(duty_role: str) -> Role:
    """Transferred staff without a matching duty get Övrig skolpersonal."""
    return DUTY_ROLE_TO_ROLE.get(duty_role, Role.OTHER_STAFF)


ROLE_CHOICES = [(r.value, ROLE_TABLE[r].label) for r in Role]
# Capabilities that also exist as object permissions on a teaching group.
GROUP_CAPABILITIES = (C.VIEW_GROUP_RESULTS,)
