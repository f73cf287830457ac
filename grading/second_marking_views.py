"""Pages of second marking: the second assessor's blind queue, and the lead's sample, agreement
figures and decisions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grading import desk_selectors as sel
from grading import second_marking as svc
from grading.desk_views import _anonymous, _render, _unit, score_form
from grading.models import SecondMarking
from grading.selectors import access_subtest, eligible_assessors, subtests_at
from provplattform.errors import Conflict, Refused
from schools.pages import AuthenticatedRequest
from schools.roles import Capability


@login_required
def second_desk(request: AuthenticatedRequest, unit) -> HttpResponse:
    school_unit = _unit(request, unit)
    markings = list(sel.my_second_markings(user=request.user, school_unit=school_unit))
    return _render(
        request,
        "grading/second/desk.html",
        {"unit": school_unit, "markings": markings,
         "done": sum(1 for m in markings if m.points is not None)},
    )  # fmt: skip


def _blind_view(marking: SecondMarking):
    """The response as the second assessor sees it: no first score, no first comment."""
    view = sel.response_view(score=marking.score)
    view.flagged = False
    return view


@login_required
def second_response(request: AuthenticatedRequest, unit, marking) -> HttpResponse:
    school_unit = _unit(request, unit)
    target = sel.access_my_second_marking(
        user=request.user, school_unit=school_unit, public_id=marking
    )
    status, error = 200, ""
    if request.method == "POST":
        try:
            svc.second_marking_save(actor=request.user, marking=target, **score_form(request))
        except Conflict as exc:
            target.refresh_from_db()
            status, error = 409, str(exc)
        except Refused as exc:
            status, error = 400, str(exc)
        else:
            messages.success(request, _("Score saved."))
            queue = list(
                sel.my_second_markings(user=request.user, school_unit=school_unit)
                .filter(points__isnull=True)
                .values_list("public_id", flat=True)[:1]
            )
            if queue:
                return redirect("grading-second-response", school_unit.public_id, queue[0])
            return redirect("grading-second-desk", school_unit.public_id)
    return _render(
        request,
        "grading/second/response.html",
        {"unit": school_unit, "marking": target, "view": _blind_view(target), "error": error,
         "anonymous": _anonymous(request)},
        status,
    )  # fmt: skip


@login_required
def second_marking(request: AuthenticatedRequest, unit) -> HttpResponse:
    """The lead's page: choose a sample, see the agreement, decide the disagreements."""
    school_unit = _unit(request, unit, Capability.PREPARE_GRADING)
    subtests = list(subtests_at(school_unit=school_unit))
    subtest = None
    chosen = request.GET.get("subtest") or request.POST.get("subtest")
    if chosen:
        subtest = access_subtest(school_unit=school_unit, public_id=chosen)
    elif subtests:
        subtest = subtests[0]
    assessors = list(eligible_assessors(school_unit=school_unit))
    status = 200
    if request.method == "POST" and subtest is not None:
        picked = [p for p in assessors if str(p.public_id) in request.POST.getlist("assessors")]
        item_ids = request.POST.getlist("items")
        items = list(subtest.items.filter(public_id__in=item_ids)) if item_ids else None
        try:
            created = svc.second_marking_sample(
                actor=request.user,
                school_unit=school_unit,
                subtest=subtest,
                assessors=picked,
                percent=int(request.POST.get("percent") or 0),
                items=items,
            )
        except (Refused, ValueError) as exc:
            messages.error(request, str(exc) if isinstance(exc, Refused) else _("Choose a share."))
            status = 400
        else:
            messages.success(
                request, _("%(count)s responses sent for second marking.") % {"count": len(created)}
            )
            url = reverse("grading-second-marking", args=[school_unit.public_id])
            return redirect(f"{url}?subtest={subtest.public_id}")
    report = svc.agreement_report(school_unit=school_unit, subtest=subtest) if subtest else None
    if report:
        for marking in report["disagreements"]:
            marking.first = svc.first_points(marking)
    return _render(
        request,
        "grading/second/lead.html",
        {
            "unit": school_unit,
            "subtests": subtests,
            "subtest": subtest,
            "assessors": assessors,
            "items": list(subtest.items.filter(kind="extended_text")) if subtest else [],
            "report": report,
        },
        status,
    )


@login_required
@require_POST
def second_marking_decide(request: AuthenticatedRequest, unit, marking) -> HttpResponse:
    school_unit = _unit(request, unit, Capability.PREPARE_GRADING)
    target = sel.access_unit_second_marking(
        user=request.user, school_unit=school_unit, public_id=marking
    )
    try:
        svc.second_marking_decide(
            actor=request.user,
            marking=target,
            points=request.POST.get("points"),
            reason=request.POST.get("reason", ""),
        )
    except Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Decided; the decided points count."))
    url = reverse("grading-second-marking", args=[school_unit.public_id])
    return redirect(f"{url}?subtest={target.score.item.subtest.public_id}")
