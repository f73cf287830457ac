"""Who may do what after a transfer run: logins, roles, teacher links and guardian permissions.

Roles follow duties (source TRANSFER); a teacher link gives its teacher the group-level results
permission. Every role and teacher-link change is audited per person and school unit, and the
guardian permission rows of every (person, unit) pair touched are synced once, at the end.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from django.contrib.auth.hashers import make_password

from provplattform.audit import AuditAction, audit_record_many
from provplattform.bulk import ORM_BATCH, chunked
from schools.models import (
    Activity,
    Duty,
    Person,
    RoleAssignment,
    RoleSource,
    SchoolUnit,
    TeachingGroup,
    TeachingGroupUserObjectPermission,
    User,
)
from schools.roles import role_for_duty
from schools.services import permissions_sync_many
from schools.transfer.state import PersonUnit, RoleKey, RunState


class TeacherLink(NamedTuple):
    """A row of the group-teacher table."""

    id: int
    group_id: int
    person_id: int


class _TeacherRemoval(NamedTuple):
    group_id: int
    person_id: int
    unit_before: int
    unit_after: int


class _StoredUser(NamedTuple):
    id: int
    username: str
    is_active: bool


class _HeldRole(NamedTuple):
    id: int
    source: str


def delete_activities(run: RunState) -> None:
    """A deleted activity takes away the teacher links it gave, unless another stored activity
    still gives the same link; the group-level permissions follow (audited)."""
    exts = run.doc.deleted.get("activities", [])
    if not exts:
        return
    gone = {tuple(link) for ext in exts for link in run.snap.activities[ext].links}
    deleting = set(exts)
    kept = {
        tuple(link)
        for ext, links in run.activity_links.items()
        if ext not in deleting
        for link in links
    }
    Activity.objects.filter(organiser=run.organiser, external_id__in=exts).delete()
    run.counts["activities"].removed += len(exts)
    through = TeachingGroup.teachers.through
    wanted_gone = gone - kept
    stale = [
        TeacherLink(pk, gid, pid)
        for pk, gid, pid in through.objects.filter(
            teachinggroup_id__in={g for g, _p in wanted_gone}
        ).values_list("id", "teachinggroup_id", "person_id")
        if (gid, pid) in wanted_gone
    ]
    # `group_units` (from `apply._apply_groups`) holds every group: none is deleted before this.
    unit_of = run.group_units
    remove_teacher_links(run, stale, unit_before=unit_of, unit_after=unit_of)
    run.sync_pairs |= {(link.person_id, unit_of[link.group_id]) for link in stale}
    run.changed_units |= {unit_of[link.group_id] for link in stale}


def remove_teacher_links(
    run: RunState,
    stale: list[TeacherLink],
    *,
    unit_before: dict[int, int],
    unit_after: dict[int, int],
) -> None:
    """Delete these teacher links, counted and audited with each group's school unit before
    and after the run."""
    through = TeachingGroup.teachers.through
    for chunk in chunked([link.id for link in stale]):
        through.objects.filter(id__in=chunk).delete()
    run.counts["group_teachers"].removed += len(stale)
    if stale:
        _audit_teacher_removals(
            run,
            [
                _TeacherRemoval(
                    link.group_id,
                    link.person_id,
                    unit_before[link.group_id],
                    unit_after[link.group_id],
                )
                for link in stale
            ],
        )


def _audit_teacher_removals(run: RunState, removals: list[_TeacherRemoval]) -> None:
    """One `group.teacher_remove` row per removal, ordered by person, then group."""
    unit_pub = run.unit_public_ids()
    group_pub = dict(
        TeachingGroup.objects.filter(id__in={r.group_id for r in removals}).values_list(
            "id", "public_id"
        )
    )
    person_pub = run.person_public_ids({r.person_id for r in removals})
    audit_record_many(
        [
            {
                "action": AuditAction.GROUP_TEACHER_REMOVE,
                "target": Person(id=r.person_id, public_id=person_pub[r.person_id]),
                "scope": unit_pub[r.unit_before],
                "before": {
                    "group": str(group_pub[r.group_id]),
                    "school_unit": str(unit_pub[r.unit_before]),
                    "teacher": True,
                },
                "after": {
                    "group": str(group_pub[r.group_id]),
                    "school_unit": str(unit_pub[r.unit_after]),
                    "teacher": False,
                },
                "reason": run.reason,
            }
            for r in sorted(removals, key=lambda r: (r.person_id, r.group_id))
        ]
    )


def resync_moved_groups(run: RunState) -> None:
    """A group that moved to another school unit keeps only the teachers who hold a duty at
    its new unit; the others lose the teacher link and the group-level results permission
    it gave (audited). Everyone who held either is re-synced at the group's new unit."""
    if not run.moved_groups:
        return
    gids = list(run.moved_groups)
    new_units = set(run.moved_groups.values())
    on_duty = set(
        Duty.objects.filter(
            school_unit_id__in=new_units, person__removed_at__isnull=True
        ).values_list("person_id", "school_unit_id")
    )
    through = TeachingGroup.teachers.through
    links = [
        TeacherLink(*row)
        for row in through.objects.filter(teachinggroup_id__in=gids).values_list(
            "id", "teachinggroup_id", "person_id"
        )
    ]
    stale = [
        link for link in links if (link.person_id, run.moved_groups[link.group_id]) not in on_duty
    ]
    old_unit = {row.id: row.school_unit_id for row in run.snap.groups.values()}
    remove_teacher_links(run, stale, unit_before=old_unit, unit_after=run.moved_groups)
    holders = set(
        TeachingGroupUserObjectPermission.objects.filter(
            content_object_id__in=gids, user__person__isnull=False
        ).values_list("user__person_id", "content_object_id")
    )
    run.sync_pairs |= {(pid, run.moved_groups[gid]) for pid, gid in holders}
    run.sync_pairs |= {(link.person_id, run.moved_groups[link.group_id]) for link in links}


def drop_teachers_without_duty(run: RunState) -> None:
    """A teacher whose duty moved to another unit (or ended) is no longer the teacher of the
    old unit's groups: the link and the group-level results permission go (audited), so a
    role given there later cannot bring the group back."""
    if not run.duties_changed:
        return
    on_duty = set(
        Duty.objects.filter(
            school_unit__organiser=run.organiser, person__removed_at__isnull=True
        ).values_list("person_id", "school_unit_id")
    )
    through = TeachingGroup.teachers.through
    stale: list[TeacherLink] = []
    unit_of: dict[int, int] = {}  # group id -> school unit id
    for pk, gid, pid, uid in through.objects.filter(
        teachinggroup__school_unit__organiser=run.organiser
    ).values_list("id", "teachinggroup_id", "person_id", "teachinggroup__school_unit_id"):
        if (pid, uid) not in on_duty:
            stale.append(TeacherLink(pk, gid, pid))
            unit_of[gid] = uid
    if not stale:
        return
    remove_teacher_links(run, stale, unit_before=unit_of, unit_after=unit_of)
    run.sync_pairs |= {(link.person_id, unit_of[link.group_id]) for link in stale}
    run.changed_units |= {unit_of[link.group_id] for link in stale}


def revoke_roles(run: RunState, person_ids: list[int]) -> None:
    """Every role of the removed persons goes, set-based, with one `role.revoke_all` audit
    row per person and school unit (the same rows `services.roles_revoke_all` writes)."""
    held: dict[PersonUnit, set[str]] = defaultdict(set)
    assignment_ids = []
    for chunk in chunked(person_ids):
        for pk, pid, uid, role in RoleAssignment.objects.filter(person_id__in=chunk).values_list(
            "id", "person_id", "school_unit_id", "role"
        ):
            held[(pid, uid)].add(role)
            assignment_ids.append(pk)
    for chunk in chunked(assignment_ids):
        RoleAssignment.objects.filter(id__in=chunk).delete()
    run.counts["roles"].removed += len(assignment_ids)
    run.revoked_pairs = set(held)
    if not held:
        return
    person_pub = run.person_public_ids({p for p, _u in held})
    unit_pub = run.unit_public_ids()
    audit_record_many(
        [
            {
                "action": AuditAction.ROLE_REVOKE_ALL,
                "target": Person(id=p, public_id=person_pub[p]),
                "scope": unit_pub[u],
                "before": sorted(roles),
                "after": [],
                "reason": run.reason,
            }
            for (p, u), roles in sorted(held.items())
        ]
    )


def apply_users(run: RunState, removed_ids: list[int]) -> None:
    """Staff get a login (username = eppn, no usable password until SSO or a reset)."""
    counts = run.counts["users"]
    staff = {
        pid
        for pid in Duty.objects.filter(
            school_unit__organiser=run.organiser, person__removed_at__isnull=True
        ).values_list("person_id", flat=True)
    }
    users = {
        pid: _StoredUser(uid, username, active)
        for uid, pid, username, active in User.objects.filter(
            person__organiser=run.organiser
        ).values_list("id", "person_id", "username", "is_active")
    }
    old_eppn = {row.id: row.eppn for row in run.snap.persons.values()}
    eppn_of = dict(old_eppn)
    for ext, person in run.doc.persons.items():
        stored = run.snap.persons.get(ext)
        if stored is not None:
            eppn_of[stored.id] = person["eppn"]
    missing = staff - users.keys()
    if missing:
        new_ids = dict(Person.objects.filter(id__in=list(missing)).values_list("id", "eppn"))
        User.objects.bulk_create(
            [
                User(username=new_ids[pid], person_id=pid, password=make_password(None))
                for pid in missing
                if new_ids.get(pid)
            ],
            batch_size=ORM_BATCH,
        )
        counts.created += len(missing)
        run.new_user_persons = missing
    else:
        run.new_user_persons = set()
    changed = []
    removed = set(removed_ids)
    for pid, user in users.items():
        want_active = pid not in removed and (user.is_active or pid in run.reactivated)
        # Rename only logins the transfer named (username = the old eppn).
        want_name = eppn_of.get(pid) if user.username == old_eppn.get(pid) else user.username
        want_name = want_name or user.username
        if pid in removed and user.is_active:
            counts.removed += 1
        elif (want_active, want_name) != (user.is_active, user.username):
            counts.updated += 1
        else:
            counts.unchanged += 1
            continue
        changed.append(User(id=user.id, username=want_name, is_active=want_active))
    if changed:
        User.objects.bulk_update(changed, ["username", "is_active"], batch_size=ORM_BATCH)


def apply_roles(run: RunState, removed_ids: list[int]) -> None:
    """Roles from duties (source TRANSFER); a person without a duty at a unit holds no role
    there; manual roles of transferred staff stay. Changes are audited per person and unit.

    A role is granted only from a duty created in this run or whose unit, person or duty
    role changed, or for a person or unit that comes back: a role the school took away from
    an unchanged duty stays away, whatever else the run changes."""
    counts = run.counts["roles"]
    restored_units = {
        row.id
        for ext, row in run.snap.units.items()
        if row.removed_at is not None and ext in run.doc.units
    }
    sync_pairs = (
        set(run.teacher_pairs)
        | run.sync_pairs
        | run.revoked_pairs
        | {(pid, uid) for pid, uid in _held_pairs(run) if pid in run.new_user_persons}
    )
    units_removed = run.counts["school_units"].removed
    if run.duties_changed or removed_ids or run.reactivated or units_removed or restored_units:
        removed_units = set(
            SchoolUnit.objects.filter(
                organiser=run.organiser, removed_at__isnull=False
            ).values_list("id", flat=True)
        )
        desired: set[RoleKey] = set()
        duty_pairs: set[PersonUnit] = set()
        for pid, uid, duty_role in Duty.objects.filter(
            school_unit__organiser=run.organiser, person__removed_at__isnull=True
        ).values_list("person_id", "school_unit_id", "duty_role"):
            if uid not in removed_units:
                desired.add(RoleKey(pid, uid, role_for_duty(duty_role).value))
                duty_pairs.add((pid, uid))
        existing: dict[RoleKey, _HeldRole] = {}
        for pk, pid, uid, role, source in RoleAssignment.objects.filter(
            school_unit__organiser=run.organiser
        ).values_list("id", "person_id", "school_unit_id", "role", "source"):
            existing[RoleKey(pid, uid, role)] = _HeldRole(pk, source)
        new = {
            key
            for key in desired - existing.keys()
            if key in run.granting
            or key.person_id in run.reactivated
            or key.school_unit_id in restored_units
        }
        stale = {
            key: held.id
            for key, held in existing.items()
            if key not in desired
            and (
                held.source == RoleSource.TRANSFER
                or (key.person_id, key.school_unit_id) not in duty_pairs
            )
        }
        if new or stale:
            before: dict[PersonUnit, set[str]] = defaultdict(set)
            for pid, uid, role in existing:
                before[(pid, uid)].add(role)
            touched = {(p, u) for p, u, _r in new} | {(p, u) for p, u, _r in stale}
            RoleAssignment.objects.bulk_create(
                [
                    RoleAssignment(
                        person_id=p, school_unit_id=u, role=r, source=RoleSource.TRANSFER
                    )
                    for p, u, r in new
                ],
                batch_size=ORM_BATCH,
            )
            for chunk in chunked(stale.values()):
                RoleAssignment.objects.filter(id__in=chunk).delete()
            after = {pair: set(roles) for pair, roles in before.items()}
            for p, u, r in new:
                after.setdefault((p, u), set()).add(r)
            for p, u, r in stale:
                after[(p, u)].discard(r)
            _audit_roles(run, touched, before, after)
            sync_pairs |= touched
        counts.created += len(new)
        counts.removed += len(stale)
        counts.unchanged += len(desired) - len(new)
    permissions_sync_many(pairs=sync_pairs)


def _held_pairs(run: RunState) -> set[PersonUnit]:
    if not run.new_user_persons:
        return set()
    return set(
        RoleAssignment.objects.filter(person_id__in=list(run.new_user_persons)).values_list(
            "person_id", "school_unit_id"
        )
    )


def _audit_roles(
    run: RunState,
    touched: set[PersonUnit],
    before: dict[PersonUnit, set[str]],
    after: dict[PersonUnit, set[str]],
) -> None:
    person_pub = run.person_public_ids({p for p, _u in touched})
    unit_pub = run.unit_public_ids()
    audit_record_many(
        [
            {
                "action": AuditAction.ROLE_TRANSFER_SYNC,
                "target": Person(id=p, public_id=person_pub[p]),
                "scope": unit_pub[u],
                "before": sorted(before.get((p, u), ())),
                "after": sorted(after.get((p, u), ())),
                "reason": run.reason,
            }
            for p, u in sorted(touched)
        ]
    )
