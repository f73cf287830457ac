"""Writes on the rooms of a school unit, where its sittings take place."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from exams.models import Room
from exams.preparation.common import ExamRefused, require_capability
from provplattform.audit import AuditAction, audit_record
from schools.models import SchoolUnit, User
from schools.roles import Capability


@transaction.atomic
def room_create(*, actor: User | None, school_unit: SchoolUnit, name: str) -> Room:
    """A named room of the unit. Invariant: names are unique per unit."""
    require_capability(actor, school_unit, Capability.ADMINISTER_TESTS)
    name = (name or "").strip()
    if not name:
        raise ExamRefused(_("The room needs a name."))
    if Room.objects.filter(school_unit=school_unit, name__iexact=name).exists():
        raise ExamRefused(_("There is already a room called %(name)s.") % {"name": name})
    room = Room.objects.create(school_unit=school_unit, name=name)
    audit_record(
        actor=actor,
        action=AuditAction.ROOM_CREATE,
        target=room,
        after={"name": name},
        scope=school_unit,
    )
    return room


@transaction.atomic
def room_delete(*, actor: User | None, room: Room) -> None:
    """Remove a room that no sitting uses."""
    require_capability(actor, room.school_unit, Capability.ADMINISTER_TESTS)
    if room.sittings.exists():
        raise ExamRefused(_("The room is used by a sitting."))
    audit_record(
        actor=actor,
        action=AuditAction.ROOM_DELETE,
        target=room,
        before={"name": room.name},
        scope=room.school_unit,
    )
    room.delete()
