"""Writes for tenancy and roles. Each service is one transaction and audits what it changes."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils.translation import gettext as _

from provplattform.audit import AuditAction, audit_record
from provplattform.bulk import ORM_BATCH, chunked
from provplattform.errors import Refused
from schools.civic_numbers import organisation_number_ok
from schools.models import (
    Country,
    Duty,
    Organiser,
    OrganiserAdministrator,
    Person,
    RoleAssignment,
    RoleSource,
    SchoolUnit,
    SchoolUnitUserObjectPermission,
    TeachingGroup,
    TeachingGroupUserObjectPermission,
    User,
)
from schools.roles import (
    ROLE_TABLE,
    Capability,
    Role,
    assignable_roles,
    capabilities_of_roles,
)
from schools.selectors import capabilities_at, persons_of_unit


class RoleRefused(Refused):
    """A role change that the rules forbid; the message explains why, in the user's language."""


def _is_transferred_staff(person: Person, school_unit: SchoolUnit) -> bool:
    return person.removed_at is None and person.duties.filter(school_unit=school_unit).exists()


def _permission_ids(model, codenames) -> dict[str, int]:
    return dict(
        Permission.objects.filter(
            content_type__app_label="schools",
            content_type__model=model._meta.model_name,
            codename__in=list(codenames),
        ).values_list("codename", "id")
    )


def permissions_sync(*, person: Person, school_unit: SchoolUnit) -> None:
    """Make the person's guardian permissions at `school_unit` equal what their roles grant.

    Invariant: after this runs, SchoolUnit permissions are exactly the capabilities of the roles
    held there, and teaching-group permissions exactly the groups they teach if a role grants
    VIEW_GROUP_RESULTS and they hold a current duty at the unit (a stale teacher link of someone
    who moved unit grants nothing).
    """
    user = getattr(person, "user", None)
    if user is None:
        return
    roles = RoleAssignment.objects.filter(person=person, school_unit=school_unit).values_list(
        "role", flat=True
    )
    wanted = {c.value for c in capabilities_of_roles(roles)}
    unit_perms = _permission_ids(SchoolUnit, [c.value for c in Capability])
    existing = dict(
        SchoolUnitUserObjectPermission.objects.filter(
            user=user, content_object=school_unit
        ).values_list("permission__codename", "id")
    )
    SchoolUnitUserObjectPermission.objects.filter(
        id__in=[pk for code, pk in existing.items() if code not in wanted]
    ).delete()
    SchoolUnitUserObjectPermission.objects.bulk_create(
        [
            SchoolUnitUserObjectPermission(
                user=user, content_object=school_unit, permission_id=unit_perms[code]
            )
            for code in wanted - existing.keys()
        ]
    )

    group_perm = _permission_ids(TeachingGroup, [Capability.VIEW_GROUP_RESULTS.value])[
        Capability.VIEW_GROUP_RESULTS.value
    ]
    wanted_groups: set[int] = set()
    if Capability.VIEW_GROUP_RESULTS.value in wanted and _is_transferred_staff(person, school_unit):
        wanted_groups = set(
            TeachingGroup.objects.filter(school_unit=school_unit, teachers=person).values_list(
                "id", flat=True
            )
        )
    existing_groups = dict(
        TeachingGroupUserObjectPermission.objects.filter(
            user=user, content_object__school_unit=school_unit, permission_id=group_perm
        ).values_list("content_object_id", "id")
    )
    TeachingGroupUserObjectPermission.objects.filter(
        id__in=[pk for gid, pk in existing_groups.items() if gid not in wanted_groups]
    ).delete()
    TeachingGroupUserObjectPermission.objects.bulk_create(
        [
            TeachingGroupUserObjectPermission(
                user=user, content_object_id=gid, permission_id=group_perm
            )
            for gid in wanted_groups - existing_groups.keys()
        ]
    )


def _roles_snapshot(person: Person, school_unit: SchoolUnit) -> list[str]:
    return sorted(
        RoleAssignment.objects.filter(person=person, school_unit=school_unit).values_list(
            "role", flat=True
        )
    )


def _check_actor_may_assign(
    actor: User | None, school_unit: SchoolUnit, role: Role, person: Person | None = None
) -> None:
    if actor is None:  # the organiser's transfer
        return
    if person is not None and actor.person_id is not None and actor.person_id == person.pk:
        raise RoleRefused(_("You cannot change your own roles; ask someone else who may."))
    allowed = assignable_roles(capabilities_at(user=actor, school_unit=school_unit))
    if not allowed:
        raise RoleRefused(_("You may not assign roles at this school unit."))
    if role not in allowed:
        raise RoleRefused(
            _("You may not assign the role %(role)s.") % {"role": ROLE_TABLE[role].label}
        )


@transaction.atomic
def role_assign(
    *,
    actor: User | None,
    person: Person,
    school_unit: SchoolUnit,
    role: Role | str,
    source: str = RoleSource.MANUAL,
) -> RoleAssignment:
    """Give `person` a role at `school_unit`.

    Invariant: only persons the organiser transferred as staff into that unit hold roles there,
    and only an actor whose roles allow it may assign; every change is audited.
    """
    role = Role(role)
    _check_actor_may_assign(actor, school_unit, role, person)
    if not _is_transferred_staff(person, school_unit):
        # No name here: the person may belong to another school unit, whose people stay unseen.
        raise RoleRefused(
            _(
                "This person was not transferred by the organiser as staff to this school unit "
                "and cannot hold a role here."
            )
        )
    before = _roles_snapshot(person, school_unit)
    assignment, created = RoleAssignment.objects.get_or_create(
        person=person,
        school_unit=school_unit,
        role=role,
        defaults={"source": source, "assigned_by": actor},
    )
    if created:
        permissions_sync(person=person, school_unit=school_unit)
        audit_record(
            actor=actor,
            action=AuditAction.ROLE_ASSIGN,
            target=person,
            before=before,
            after=_roles_snapshot(person, school_unit),
            scope=school_unit,
        )
    return assignment


@transaction.atomic
def role_remove(
    *, actor: User, person: Person, school_unit: SchoolUnit, role: Role | str, reason: str = ""
) -> None:
    """Take a role away. The same rules as assigning decide who may.

    Invariant: only a person of that unit (transferred into it, or holding a role there) is
    touched; anyone else is refused without being named.
    """
    role = Role(role)
    _check_actor_may_assign(actor, school_unit, role, person)
    before = _roles_snapshot(person, school_unit)
    deleted, _count = RoleAssignment.objects.filter(
        person=person, school_unit=school_unit, role=role
    ).delete()
    # Whoever held the role is a person of the unit; only an empty delete needs the check.
    if not deleted and not persons_of_unit(school_unit=school_unit).filter(pk=person.pk).exists():
        raise RoleRefused(_("This person holds no role at this school unit."))
    if deleted:
        permissions_sync(person=person, school_unit=school_unit)
        audit_record(
            actor=actor,
            action=AuditAction.ROLE_REMOVE,
            target=person,
            before=before,
            after=_roles_snapshot(person, school_unit),
            reason=reason,
            scope=school_unit,
        )


@transaction.atomic
def roles_revoke_all(*, actor: User, person: Person, reason: str) -> None:
    """Remove every role a person holds (the organiser removed them); audited per school unit."""
    unit_ids = set(person.role_assignments.values_list("school_unit_id", flat=True))
    for school_unit in SchoolUnit.objects.filter(id__in=unit_ids):
        before = _roles_snapshot(person, school_unit)
        RoleAssignment.objects.filter(person=person, school_unit=school_unit).delete()
        permissions_sync(person=person, school_unit=school_unit)
        audit_record(
            actor=actor,
            action=AuditAction.ROLE_REVOKE_ALL,
            target=person,
            before=before,
            after=[],
            reason=reason,
            scope=school_unit,
        )


def permissions_sync_many(*, pairs) -> None:
    """`permissions_sync` for many (person id, school unit id) pairs at once, set-based.

    Same invariant as `permissions_sync` for every pair given; a handful of queries whatever the
    number of pairs (the organiser's transfer calls this after applying a run).
    """
    pairs = set(pairs)
    if not pairs:
        return
    person_ids = {p for p, _u in pairs}
    unit_ids = {u for _p, u in pairs}
    user_of: dict[int, int] = {}
    for chunk in chunked(person_ids):
        user_of.update(User.objects.filter(person_id__in=chunk).values_list("person_id", "id"))
    pairs = {(p, u) for p, u in pairs if p in user_of}
    if not pairs:
        return
    person_of = {uid: pid for pid, uid in user_of.items()}
    roles: dict[tuple[int, int], set[str]] = {pair: set() for pair in pairs}
    for chunk in chunked({p for p, _u in pairs}):
        for pid, unit_id, role in RoleAssignment.objects.filter(
            person_id__in=chunk, school_unit_id__in=unit_ids
        ).values_list("person_id", "school_unit_id", "role"):
            if (pid, unit_id) in roles:
                roles[(pid, unit_id)].add(role)
    unit_perms = _permission_ids(SchoolUnit, [c.value for c in Capability])
    group_perm = _permission_ids(TeachingGroup, [Capability.VIEW_GROUP_RESULTS.value])[
        Capability.VIEW_GROUP_RESULTS.value
    ]
    wanted: set[tuple[int, int, int]] = set()
    with_group_results: set[tuple[int, int]] = set()
    for (pid, unit_id), held in roles.items():
        caps = {c.value for c in capabilities_of_roles(held)}
        wanted |= {(user_of[pid], unit_id, unit_perms[code]) for code in caps}
        if Capability.VIEW_GROUP_RESULTS.value in caps:
            with_group_results.add((pid, unit_id))
    user_ids = [user_of[p] for p, _u in pairs]
    existing: dict[tuple[int, int, int], int] = {}
    for chunk in chunked(set(user_ids)):
        for pk, user_id, unit_id, perm_id in SchoolUnitUserObjectPermission.objects.filter(
            user_id__in=chunk, content_object_id__in=unit_ids
        ).values_list("id", "user_id", "content_object_id", "permission_id"):
            if (person_of[user_id], unit_id) in pairs:
                existing[(user_id, unit_id, perm_id)] = pk
    stale = [pk for key, pk in existing.items() if key not in wanted]
    for chunk in chunked(stale):
        SchoolUnitUserObjectPermission.objects.filter(id__in=chunk).delete()
    SchoolUnitUserObjectPermission.objects.bulk_create(
        [
            SchoolUnitUserObjectPermission(
                user_id=user_id, content_object_id=unit_id, permission_id=perm_id
            )
            for user_id, unit_id, perm_id in wanted - existing.keys()
        ],
        batch_size=ORM_BATCH,
    )

    teaches = TeachingGroup.teachers.through
    wanted_groups: set[tuple[int, int]] = set()
    on_duty: set[tuple[int, int]] = set()
    for chunk in chunked({p for p, _u in with_group_results}):
        on_duty |= set(
            Duty.objects.filter(
                person_id__in=chunk, school_unit_id__in=unit_ids, person__removed_at__isnull=True
            ).values_list("person_id", "school_unit_id")
        )
    for chunk in chunked({p for p, _u in with_group_results}):
        for pid, gid, unit_id in teaches.objects.filter(
            person_id__in=chunk, teachinggroup__school_unit_id__in=unit_ids
        ).values_list("person_id", "teachinggroup_id", "teachinggroup__school_unit_id"):
            # Group permissions come only from a current duty at the group's unit.
            if (pid, unit_id) in with_group_results and (pid, unit_id) in on_duty:
                wanted_groups.add((user_of[pid], gid))
    existing_groups: dict[tuple[int, int], int] = {}
    for chunk in chunked(set(user_ids)):
        for pk, user_id, gid, unit_id in TeachingGroupUserObjectPermission.objects.filter(
            user_id__in=chunk,
            content_object__school_unit_id__in=unit_ids,
            permission_id=group_perm,
        ).values_list("id", "user_id", "content_object_id", "content_object__school_unit_id"):
            if (person_of[user_id], unit_id) in pairs:
                existing_groups[(user_id, gid)] = pk
    stale = [pk for key, pk in existing_groups.items() if key not in wanted_groups]
    for chunk in chunked(stale):
        TeachingGroupUserObjectPermission.objects.filter(id__in=chunk).delete()
    TeachingGroupUserObjectPermission.objects.bulk_create(
        [
            TeachingGroupUserObjectPermission(
                user_id=user_id, content_object_id=gid, permission_id=group_perm
            )
            for user_id, gid in wanted_groups - existing_groups.keys()
        ],
        batch_size=ORM_BATCH,
    )


# --- Organisers and the roles beyond the school -------------------------------------------------


class SetupRefused(Refused):
    """An organiser or platform role that cannot be created as asked; the message says why."""


@transaction.atomic
def organiser_create(
    *,
    actor: User,
    name: str,
    organisation_number: str,
    time_zone: str,
    country: str = Country.SWEDEN,
    external_id: str = "",
) -> Organiser:
    """Create an organiser (huvudman / skoleeier), audited.

    Invariant: the name is not blank, the organisation number is valid for the country and not
    taken, the time zone exists, and the external id (by default the organisation number) is
    unique. Its school units, staff and students come from its own transfer afterwards.
    """
    name = name.strip()
    number = organisation_number.replace("-", "").replace(" ", "")
    if not name:
        raise SetupRefused("The organiser needs a name.")
    if country not in Country.values:
        raise SetupRefused(f"Unknown country {country!r}; use one of {', '.join(Country.values)}.")
    if not organisation_number_ok(number, norwegian=country == Country.NORWAY):
        raise SetupRefused(f"{organisation_number!r} is not a valid organisation number.")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SetupRefused(f"{time_zone!r} is not a known time zone.") from exc
    external_id = external_id.strip() or number
    if Organiser.objects.filter(organisation_number=number).exists():
        raise SetupRefused(f"An organiser with organisation number {number} already exists.")
    if Organiser.objects.filter(external_id=external_id).exists():
        raise SetupRefused(f"An organiser with external id {external_id!r} already exists.")
    fields = {
        "name": name,
        "organisation_number": number,
        "time_zone": time_zone,
        "country": country,
        "external_id": external_id,
    }
    organiser = Organiser.objects.create(**fields)
    audit_record(actor=actor, action=AuditAction.ORGANISER_CREATE, target=organiser, after=fields)
    return organiser


def _platform_roles(user: User) -> dict:
    return {
        "platform_operator": user.is_platform_operator,
        "organiser_administrator_of": sorted(
            str(public_id)
            for public_id in user.organiser_admin_of.values_list("organiser__public_id", flat=True)
        ),
    }


def _audit_platform_grant(*, actor: User, user: User, before: dict) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.PLATFORM_ROLE_GRANT,
        target=user,
        before=before,
        after=_platform_roles(user),
    )


@transaction.atomic
def organiser_administrator_grant(*, actor: User, user: User, organiser: Organiser) -> bool:
    """Make `user` an administrator of `organiser` (transfers, API tokens, its school units).

    Invariant: idempotent; a change is audited with the user's platform roles before and after.
    Returns whether anything changed.
    """
    before = _platform_roles(user)
    _admin, created = OrganiserAdministrator.objects.get_or_create(user=user, organiser=organiser)
    if created:
        _audit_platform_grant(actor=actor, user=user, before=before)
    return created


@transaction.atomic
def platform_operator_grant(*, actor: User, user: User) -> bool:
    """Make `user` a platform operator (publishes tests, posts service announcements).

    Invariant: idempotent; a change is audited with the user's platform roles before and after.
    Returns whether anything changed.
    """
    if user.is_platform_operator:
        return False
    before = _platform_roles(user)
    user.is_platform_operator = True
    user.save(update_fields=["is_platform_operator"])
    _audit_platform_grant(actor=actor, user=user, before=before)
    return True


@transaction.atomic
def platform_login_create(*, actor: User, username: str, email: str) -> User:
    """A login for someone the organiser's transfer does not bring (an organiser administrator, a
    platform operator). Invariant: no usable password — they choose one through the e-mailed
    reset link, so no password ever passes through a command line; audited."""
    if not email:
        raise SetupRefused("A new login needs an e-mail address, for choosing a password.")
    user = User(username=username, email=email)
    user.set_unusable_password()
    user.save()
    audit_record(
        actor=actor, action=AuditAction.USER_CREATE, target=user, after={"username": username}
    )
    return user
