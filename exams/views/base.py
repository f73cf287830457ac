"""What the preparation pages share: rendering with the user's capabilities, the room filter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from django.shortcuts import render

from exams import selectors
from schools.pages import AuthenticatedRequest
from schools.roles import Capability
from schools.selectors import capabilities_at

if TYPE_CHECKING:
    from exams.models import Room
    from schools.models import SchoolUnit

ADMIN = Capability.ADMINISTER_TESTS


def render_page(
    request: AuthenticatedRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.setdefault(
        "capabilities", capabilities_at(user=request.user, school_unit=context["unit"])
    )
    return render(request, template, context, status=status)


def room_filter(request: AuthenticatedRequest, school_unit: SchoolUnit) -> Room | None:
    """The room `?room=` filters a list by (another unit's room is not found), or None."""
    room_id = request.GET.get("room")
    if not room_id:
        return None
    return selectors.access_room(user=request.user, school_unit=school_unit, public_id=room_id)


def room_choices(request: AuthenticatedRequest, school_unit: SchoolUnit, room: Room | None) -> dict:
    """What a list filtered by room shows above itself: the unit's rooms and the one chosen."""
    return {
        "room_filter": room,
        "rooms": selectors.rooms_for(user=request.user, school_unit=school_unit),
    }
