"""Pages for decisions about one student's test: adjustments and exemptions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from exams import selectors
from exams.forms import AdjustmentForm, ExemptionForm
from exams.models import Programme
from exams.preparation import decisions as decision_services
from exams.views.base import ADMIN, render_page, room_choices, room_filter
from provplattform.page_errors import shown_on
from schools.pages import AuthenticatedRequest, unit_page
from schools.roles import Capability
from schools.selectors import capabilities_at

if TYPE_CHECKING:
    from schools.models import SchoolUnit


# --- adjustments --------------------------------------------------------------------------------


def _adjustment_form(
    request: AuthenticatedRequest, school_unit: SchoolUnit, data: QueryDict | None = None
) -> AdjustmentForm:
    cap = Capability.ENTER_ADJUSTMENTS
    return AdjustmentForm(
        data,
        students=selectors.students_for(user=request.user, school_unit=school_unit, capability=cap),
        tests=selectors.tests_for_unit(school_unit=school_unit),
        subtests=selectors.subtests_for_unit(school_unit=school_unit),
        head_teachers=selectors.head_teachers_at(school_unit=school_unit),
    )


@unit_page(Capability.ENTER_ADJUSTMENTS)
def adjustments(request: AuthenticatedRequest, school_unit: SchoolUnit) -> HttpResponse:
    room = (
        room_filter(request, school_unit)
        if ADMIN in capabilities_at(user=request.user, school_unit=school_unit)
        else None
    )
    form = _adjustment_form(request, school_unit, request.POST or None)
    refusal = shown_on(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal:
            decision_services.adjustment_set(
                actor=request.user,
                school_unit=school_unit,
                person=data["student"],
                test=data["test"],
                subtest=data["subtest"],
                extended_minutes=data["extended_minutes"],
                extended_percent=data["extended_percent"],
                tools=data["tools"],
                other_kinds=data["other_kinds"],
                decided_by=data["decided_by"],
                decided_on=data["decided_on"],
                reason=data["reason"],
            )
            messages.success(request, _("Adjustment saved."))
            return redirect("exams-adjustments", school_unit.public_id)
    return render_page(
        request,
        "exams/adjustments.html",
        {
            "unit": school_unit,
            "form": form,
            "adjustments": selectors.adjustments_for(
                user=request.user, school_unit=school_unit, room=room
            ),
            **room_choices(request, school_unit, room),
        },
        refusal.status,
    )


@unit_page(Capability.ENTER_ADJUSTMENTS, refused_to="exams-adjustments")
@require_POST
def adjustment_remove(
    request: AuthenticatedRequest, school_unit: SchoolUnit, adjustment
) -> HttpResponse:
    target = selectors.access_adjustment(
        user=request.user, school_unit=school_unit, public_id=adjustment
    )
    decision_services.adjustment_remove(
        actor=request.user, adjustment=target, reason=request.POST.get("reason", "")
    )
    messages.success(request, _("Adjustment removed."))
    return redirect("exams-adjustments", school_unit.public_id)


# --- exemptions ---------------------------------------------------------------------------------


@unit_page(Capability.DECIDE_EXEMPTIONS)
def exemptions(request: AuthenticatedRequest, school_unit: SchoolUnit) -> HttpResponse:
    cap = Capability.DECIDE_EXEMPTIONS
    tests = selectors.tests_for_unit(school_unit=school_unit).filter(programme=Programme.NO_MAPPING)
    form = ExemptionForm(
        request.POST or None,
        students=selectors.students_for(user=request.user, school_unit=school_unit, capability=cap),
        tests=tests,
        subtests=selectors.subtests_for_unit(school_unit=school_unit).filter(test__in=tests),
        head_teachers=selectors.head_teachers_at(school_unit=school_unit),
    )
    room = room_filter(request, school_unit)
    refusal = shown_on(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal:
            decision_services.exemption_create(
                actor=request.user,
                school_unit=school_unit,
                person=data["student"],
                test=data["test"],
                subtest=data["subtest"],
                ground=data["ground"],
                decision_reference=data["decision_reference"],
                attested_no_significance=data["attested_no_significance"],
                decided_by=data["decided_by"],
                decided_on=data["decided_on"],
            )
            messages.success(request, _("Exemption recorded."))
            return redirect("exams-exemptions", school_unit.public_id)
    return render_page(
        request,
        "exams/exemptions.html",
        {
            "unit": school_unit,
            "form": form,
            "is_norwegian": tests.exists(),
            "exemptions": selectors.exemptions_for(
                user=request.user, school_unit=school_unit, room=room
            ),
            **room_choices(request, school_unit, room),
        },
        refusal.status,
    )


@unit_page(Capability.DECIDE_EXEMPTIONS, refused_to="exams-exemptions")
@require_POST
def exemption_remove(
    request: AuthenticatedRequest, school_unit: SchoolUnit, exemption
) -> HttpResponse:
    target = selectors.access_exemption(
        user=request.user, school_unit=school_unit, public_id=exemption
    )
    decision_services.exemption_remove(
        actor=request.user, exemption=target, reason=request.POST.get("reason", "")
    )
    messages.success(request, _("Exemption withdrawn."))
    return redirect("exams-exemptions", school_unit.public_id)
