"""Pages of the distribution and completeness of grading. Thin: scope, call a service, render.

Only holders of PREPARE_GRADING at the unit reach these pages; everyone else gets 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grading import distribution_services, selectors
from grading.forms import DistributionForm, DueDateForm
from provplattform.errors import NotFound, Refused
from schools.pages import AuthenticatedRequest
from schools.roles import Capability
from schools.selectors import capabilities_at

LEAD = Capability.PREPARE_GRADING


def _scope(request: AuthenticatedRequest, unit, subtest=None):
    school_unit = selectors.access_unit(user=request.user, public_id=unit, capability=LEAD)
    if subtest is None:
        return school_unit, None
    return school_unit, selectors.access_subtest(school_unit=school_unit, public_id=subtest)


def _render(
    request: AuthenticatedRequest, template: str, context: dict, status: int = 200
) -> HttpResponse:
    context.setdefault(
        "capabilities", capabilities_at(user=request.user, school_unit=context["unit"])
    )
    return render(request, template, context, status=status)


def _form(school_unit, subtest, data=None) -> DistributionForm:
    return DistributionForm(
        data,
        assessors=selectors.eligible_assessors(school_unit=school_unit),
        items=subtest.items.order_by("position"),
    )


@login_required
def overview(request: AuthenticatedRequest, unit) -> HttpResponse:
    school_unit, _none = _scope(request, unit)
    rows = selectors.subtests_overview(school_unit=school_unit)
    return _render(request, "grading/overview.html", {"unit": school_unit, "rows": rows})


def _subtest_context(school_unit, subtest) -> dict:
    plan = selectors.plan_of(school_unit=school_unit, subtest=subtest)
    return {
        "unit": school_unit,
        "subtest": subtest,
        "plan": plan,
        "progress": selectors.subtest_progress(school_unit=school_unit, subtest=subtest),
        "by_assessor": selectors.progress_by_assessor(school_unit=school_unit, subtest=subtest),
        "by_item": selectors.progress_by_item(school_unit=school_unit, subtest=subtest),
        "unassigned": distribution_services.unassigned_count(
            school_unit=school_unit, subtest=subtest
        ),
        "complete": selectors.subtest_complete(school_unit, subtest),
        "distributed": plan is not None and plan.confirmed_at is not None,
        "due_form": DueDateForm(initial={"due_date": plan.due_date if plan else None}),
    }


@login_required
def subtest_page(request: AuthenticatedRequest, unit, subtest) -> HttpResponse:
    school_unit, found = _scope(request, unit, subtest)
    context = _subtest_context(school_unit, found)
    context["form"] = _form(school_unit, found)
    return _render(request, "grading/subtest.html", context)


def _choice(school_unit, subtest, form: DistributionForm):
    data = form.cleaned_data
    return distribution_services.choice_from(
        school_unit=school_unit,
        subtest=subtest,
        assessor_ids=data["assessors"],
        mode=data["mode"],
        by_item_ids=data["by_item_items"],
        own_groups=data["own_groups"],
    )


@login_required
@require_POST
def distribution(request: AuthenticatedRequest, unit, subtest) -> HttpResponse:
    """One form, two steps: without `confirm` it shows the preview; with it, it stores."""
    school_unit, found = _scope(request, unit, subtest)
    form = _form(school_unit, found, request.POST)
    context = _subtest_context(school_unit, found)
    context["form"] = form
    if not form.is_valid():
        return _render(request, "grading/subtest.html", context, status=400)
    distributed = context["distributed"]
    try:
        choice = _choice(school_unit, found, form)
        if "confirm" not in request.POST:
            if distributed:
                context["preview"] = distribution_services.redistribution_preview(
                    actor=request.user, school_unit=school_unit, subtest=found, choice=choice
                )
            else:
                context["preview"] = distribution_services.distribution_preview(
                    actor=request.user, school_unit=school_unit, subtest=found, choice=choice
                )
            return _render(request, "grading/subtest.html", context)
        if distributed:
            result = distribution_services.distribution_redistribute(
                actor=request.user,
                school_unit=school_unit,
                subtest=found,
                choice=choice,
                reason=form.cleaned_data["reason"],
            )
            messages.success(
                request, _("Redistributed: %(moved)s responses moved.") % {"moved": result.moved}
            )
        else:
            distribution_services.distribution_confirm(
                actor=request.user, school_unit=school_unit, subtest=found, choice=choice
            )
            messages.success(request, _("The grading is distributed."))
    except NotFound:
        raise
    except Refused as exc:
        form.add_error(None, str(exc))
        return _render(request, "grading/subtest.html", context, status=400)
    return redirect("grading-subtest", school_unit.public_id, found.public_id)


@login_required
@require_POST
def due_date(request: AuthenticatedRequest, unit, subtest) -> HttpResponse:
    school_unit, found = _scope(request, unit, subtest)
    form = DueDateForm(request.POST)
    if not form.is_valid():
        context = _subtest_context(school_unit, found)
        context.update(form=_form(school_unit, found), due_form=form)
        return _render(request, "grading/subtest.html", context, status=400)
    distribution_services.plan_set_due_date(
        actor=request.user,
        school_unit=school_unit,
        subtest=found,
        due_date=form.cleaned_data["due_date"],
    )
    messages.success(request, _("Grading date saved."))
    return redirect("grading-subtest", school_unit.public_id, found.public_id)


@login_required
def unassessed(request: AuthenticatedRequest, unit, subtest) -> HttpResponse:
    school_unit, found = _scope(request, unit, subtest)
    rows = selectors.unassessed_scores(school_unit=school_unit, subtest=found)
    return _render(
        request,
        "grading/unassessed.html",
        {"unit": school_unit, "subtest": found, "rows": rows},
    )
