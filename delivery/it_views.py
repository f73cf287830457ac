"""The IT staff page: a school unit's live notices across rooms and connected devices per room.

Anyone whose roles at the unit grant Capability.VIEW_CONNECTIVITY may open it; for anyone else the
unit does not exist (404).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from delivery import notices
from delivery.proctor_views import after_id
from schools.pages import AuthenticatedRequest, unit_page
from schools.roles import Capability
from schools.selectors import school_units_for


@login_required
def it_units(request: AuthenticatedRequest) -> HttpResponse:
    units = list(school_units_for(request.user, Capability.VIEW_CONNECTIVITY)[:50])
    if len(units) == 1:
        return redirect("it-page", units[0].public_id)
    return render(request, "delivery/it/units.html", {"units": units})


@unit_page(Capability.VIEW_CONNECTIVITY)
def it_page(request: AuthenticatedRequest, unit) -> HttpResponse:
    return render(
        request,
        "delivery/it/page.html",
        {
            "unit": unit,
            "rooms": notices.connectivity_by_room(school_unit=unit),
            "history": [
                {"notice": n, "text": notices.notice_text(n)}
                for n in notices.notices_for_it(school_unit=unit, limit=100)
            ],
        },
    )


@unit_page(Capability.VIEW_CONNECTIVITY)
def it_rooms(request: AuthenticatedRequest, unit) -> HttpResponse:
    """The per-room counts, refreshed by htmx every few seconds."""
    return render(
        request,
        "delivery/it/_rooms.html",
        {"unit": unit, "rooms": notices.connectivity_by_room(school_unit=unit)},
    )


@unit_page(Capability.VIEW_CONNECTIVITY)
def it_notices(request: AuthenticatedRequest, unit) -> JsonResponse:
    """The unit's notices as JSON (newest, or after `?after=<id>`): it.js catches up with them
    after its socket reconnects."""
    return JsonResponse(
        {"notices": notices.it_notices_since(school_unit=unit, after=after_id(request))}
    )
