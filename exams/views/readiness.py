"""The preparation overview and the readiness of a unit's coming sittings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from exams import readiness, selectors
from exams.preparation.sittings import checklist_acknowledge
from exams.views.base import ADMIN, render_page, room_choices, room_filter
from schools.pages import AuthenticatedRequest, unit_page

if TYPE_CHECKING:
    from schools.models import SchoolUnit


@unit_page(ADMIN)
def prepare(request: AuthenticatedRequest, school_unit: SchoolUnit) -> HttpResponse:
    return render_page(
        request,
        "exams/prepare.html",
        {
            "unit": school_unit,
            "readiness_panel": {
                "sittings": readiness.unit_readiness(school_unit=school_unit, limit=5)
            },
        },
    )


@unit_page(ADMIN, refused_to="exams-readiness")
def readiness_page(
    request: AuthenticatedRequest, school_unit: SchoolUnit, printable: bool = False
) -> HttpResponse:
    if request.method == "POST":
        sitting = None
        if request.POST.get("sitting"):
            sitting = selectors.access_sitting(
                user=request.user, school_unit=school_unit, public_id=request.POST["sitting"]
            )
        checklist_acknowledge(
            actor=request.user,
            school_unit=school_unit,
            sitting=sitting,
            key=request.POST.get("key", ""),
        )
        messages.success(request, _("Acknowledged."))
        return redirect(reverse("exams-readiness", args=[school_unit.public_id]))
    template = "exams/readiness_print.html" if printable else "exams/readiness.html"
    room = room_filter(request, school_unit)
    return render_page(
        request,
        template,
        {
            "unit": school_unit,
            "sittings": readiness.unit_readiness(school_unit=school_unit, room=room),
            **room_choices(request, school_unit, room),
        },
    )
