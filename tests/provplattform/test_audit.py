"""The audit log: actions named once, rows written down plainly, and never rewritten."""

import datetime
import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from provplattform.audit import AuditAction, audit_record, plain
from provplattform.models import AuditEvent
from schools.roles import Role
from schools.selectors import role_history
from schools.services import role_assign


def test_every_action_of_a_subject_is_one_query_away():
    assert set(AuditAction.of("role")) == {
        AuditAction.ROLE_ASSIGN,
        AuditAction.ROLE_REMOVE,
        AuditAction.ROLE_REVOKE_ALL,
        AuditAction.ROLE_TRANSFER_SYNC,
    }
    assert AuditAction.PLATFORM_ROLE_GRANT not in AuditAction.of("role")


def test_actions_are_stored_as_their_strings():
    assert AuditAction.ROOM_CREATE == "room.create"


@pytest.mark.django_db
def test_audit_rows_write_model_instances_ids_and_times_down_plainly(world):
    person = world.students_a[0]
    when = datetime.datetime(2026, 5, 4, 9, 30, tzinfo=datetime.UTC)
    event = audit_record(
        actor=None,
        action=AuditAction.ROOM_CREATE,
        target=world.unit,
        after={"person": person, "at": when, "ids": (uuid.UUID(int=1),), "none": None},
    )
    event.refresh_from_db()
    assert event.after == {
        "person": str(person.public_id),
        "at": "2026-05-04T09:30:00+00:00",
        "ids": ["00000000-0000-0000-0000-000000000001"],
        "none": None,
    }
    assert plain({1: {world.unit}}) == {"1": [str(world.unit.public_id)]}


@pytest.mark.django_db
def test_role_history_shows_role_changes_and_nothing_else(world):
    admin = world.staff[Role.HEAD_TEACHER]
    target = world.staff[Role.OTHER_STAFF].person
    role_assign(actor=admin, person=target, school_unit=world.unit, role=Role.PROCTOR)
    audit_record(actor=admin, action=AuditAction.ROOM_CREATE, target=world.unit, scope=world.unit)
    actions = {row["action"] for row in role_history(school_unit=world.unit)}
    assert AuditAction.ROLE_ASSIGN in actions and AuditAction.ROOM_CREATE not in actions


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL"
)


@postgres_only
@pytest.mark.django_db
def test_the_database_refuses_to_update_or_delete_audit_rows(world):
    event = audit_record(actor=None, action=AuditAction.ROOM_CREATE, target=world.unit)
    for rewrite in (
        lambda rows: rows.update(reason="tampered"),
        lambda rows: rows.delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            rewrite(AuditEvent.objects.filter(pk=event.pk))
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@postgres_only
@pytest.mark.django_db
def test_deleting_a_user_keeps_their_audit_rows_without_the_actor(world):
    actor = world.outsider
    event = audit_record(actor=actor, action=AuditAction.ROOM_CREATE, target=world.unit)
    actor.delete()
    event.refresh_from_db()
    assert event.actor_id is None and event.action == AuditAction.ROOM_CREATE
