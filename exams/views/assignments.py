"""Pages for which students take which subtest: registrations of voluntary tests, assignments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from exams import day_passwords, selectors
from exams.forms import AssignForm, CorrectAssignmentForm
from exams.preparation.assignments import (
    assignment_remove,
    assignment_replace,
    assignments_create,
    assignments_create_for_grade,
    assignments_create_for_group,
    registration_create,
)
from exams.preparation.common import ExamRefused
from exams.preparation.rules import binding_test_ids
from exams.views.base import ADMIN, render_page, room_choices, room_filter
from provplattform.page_errors import shown_on
from schools.pages import AuthenticatedRequest, unit_page

if TYPE_CHECKING:
    from schools.models import SchoolUnit


# --- registrations ------------------------------------------------------------------------------


@unit_page(ADMIN)
def registrations(request: AuthenticatedRequest, school_unit: SchoolUnit) -> HttpResponse:
    refusal = shown_on(request)
    if request.method == "POST":
        test = selectors.access_test(school_unit=school_unit, public_id=request.POST.get("test"))
        with refusal:
            registration_create(actor=request.user, school_unit=school_unit, test=test)
            messages.success(request, _("Registered. The test is now assigned to the grade."))
            return redirect("exams-registrations", school_unit.public_id)
    return render_page(
        request,
        "exams/registrations.html",
        {
            "unit": school_unit,
            "tests": selectors.voluntary_tests_for(school_unit=school_unit),
            "today": day_passwords.unit_today(school_unit),
        },
        refusal.status,
    )


# --- assignments --------------------------------------------------------------------------------


def _assign_form(
    request: AuthenticatedRequest, school_unit: SchoolUnit, data: QueryDict | None = None
) -> AssignForm:
    return AssignForm(
        data,
        subtests=selectors.subtests_for_unit(school_unit=school_unit),
        groups=selectors.groups_for(user=request.user, school_unit=school_unit),
        students=selectors.students_for(user=request.user, school_unit=school_unit),
        automatic=binding_test_ids(school_unit=school_unit),
    )


@unit_page(ADMIN)
def assignments(request: AuthenticatedRequest, school_unit: SchoolUnit) -> HttpResponse:
    room = room_filter(request, school_unit)
    subtest = None
    if request.GET.get("subtest"):
        subtest = selectors.access_subtest(
            school_unit=school_unit, public_id=request.GET["subtest"]
        )
    form = _assign_form(request, school_unit, request.POST or None)
    # Shown as a message above the form, which stays filled in for another try.
    refusal, form_status = shown_on(request), shown_on(request, form)
    summary = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kwargs = {"actor": request.user, "school_unit": school_unit, "subtest": data["subtest"]}
        with refusal:
            if data["mode"] == "group":
                if data["group"] is None:
                    raise ExamRefused(_("Choose a teaching group."))
                summary = assignments_create_for_group(group=data["group"], **kwargs)
            elif data["mode"] == "grade":
                summary = assignments_create_for_grade(**kwargs)
            else:
                summary = assignments_create(persons=data["students"], **kwargs)
    rows = selectors.assignments_for(
        user=request.user,
        school_unit=school_unit,
        subtest=subtest,
        room=room,
        unplaced=request.GET.get("unplaced") == "1",
    )
    return render_page(
        request,
        "exams/assignments.html",
        {
            "unit": school_unit,
            "form": form,
            "summary": summary,
            "assignments": rows,
            "subtests": selectors.subtests_for_unit(school_unit=school_unit),
            "subtest_filter": subtest,
            **room_choices(request, school_unit, room),
        },
        max(refusal.status, form_status.status),
    )


@unit_page(ADMIN)
def assignment_correct(
    request: AuthenticatedRequest, school_unit: SchoolUnit, assignment
) -> HttpResponse:
    target = selectors.access_assignment(
        user=request.user, school_unit=school_unit, public_id=assignment
    )
    form = CorrectAssignmentForm(
        request.POST or None, subtests=selectors.subtests_for_unit(school_unit=school_unit)
    )
    refusal = shown_on(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal:
            if data["replacement"] is not None:
                assignment_replace(
                    actor=request.user,
                    assignment=target,
                    subtest=data["replacement"],
                    reason=data["reason"],
                )
            else:
                assignment_remove(actor=request.user, assignment=target, reason=data["reason"])
            messages.success(request, _("Assignment corrected."))
            return redirect("exams-assignments", school_unit.public_id)
    return render_page(
        request,
        "exams/assignment_correct.html",
        {
            "unit": school_unit,
            "assignment": target,
            "form": form,
        },
        refusal.status,
    )
