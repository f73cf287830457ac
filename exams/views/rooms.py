"""Pages for the rooms of a school unit, where its sittings take place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from exams import selectors
from exams.forms import RoomForm
from exams.preparation import rooms as room_services
from exams.views.base import ADMIN, render_page
from provplattform.page_errors import shown_on
from schools.pages import AuthenticatedRequest, unit_page

if TYPE_CHECKING:
    from schools.models import SchoolUnit


@unit_page(ADMIN)
def rooms(request: AuthenticatedRequest, school_unit: SchoolUnit) -> HttpResponse:
    form = RoomForm(request.POST or None)
    refusal = shown_on(request, form, "name")
    if request.method == "POST" and form.is_valid():
        with refusal:
            room_services.room_create(
                actor=request.user, school_unit=school_unit, name=form.cleaned_data["name"]
            )
            messages.success(request, _("Room added."))
            return redirect("exams-rooms", school_unit.public_id)
    return render_page(
        request,
        "exams/rooms.html",
        {
            "unit": school_unit,
            "form": form,
            "rooms": selectors.rooms_for(user=request.user, school_unit=school_unit),
        },
        refusal.status,
    )


@unit_page(ADMIN, refused_to="exams-rooms")
@require_POST
def room_delete(request: AuthenticatedRequest, school_unit: SchoolUnit, room) -> HttpResponse:
    target = selectors.access_room(user=request.user, school_unit=school_unit, public_id=room)
    room_services.room_delete(actor=request.user, room=target)
    messages.success(request, _("Room removed."))
    return redirect("exams-rooms", school_unit.public_id)
