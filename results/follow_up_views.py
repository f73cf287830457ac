"""The organiser's follow-up pages: ask the schools which measures they started, and see per
school the counts and whether it answered (in name order; never a ranking, never a score)."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from exams.models import DefinitionStatus, Programme, Subtest, TestDefinition
from provplattform.errors import NotFound, Refused
from provplattform.lookup import parse_public_id
from results import measures
from results.models import FollowUpRequest
from schools.models import Organiser, User
from schools.pages import AuthenticatedRequest
from schools.transfer.selectors import organisers_administered_by


def _organisers(user: User):
    return Organiser.objects.filter(id__in=organisers_administered_by(user))


@login_required
def follow_up_requests(request: AuthenticatedRequest) -> HttpResponse:
    organisers = list(_organisers(request.user))
    if not organisers:
        raise NotFound("No follow-up here.")
    tests = TestDefinition.objects.filter(
        programme=Programme.NO_MAPPING, status=DefinitionStatus.PUBLISHED
    ).order_by("grade", "title")
    error = ""
    if request.method == "POST" and "kind_name" in request.POST:
        try:
            measures.measure_kind_add(
                actor=request.user, organiser=organisers[0], name=request.POST["kind_name"]
            )
            return redirect("results-follow-up-requests")
        except Refused as exc:
            error = str(exc)
    elif request.method == "POST":
        try:
            organiser = organisers[0]
            if request.POST.get("organiser"):
                organiser = measures.administered_organiser(
                    user=request.user, public_id=request.POST["organiser"]
                )
            test = tests.filter(public_id=parse_public_id(request.POST.get("test"))).first()
            if test is None:
                raise Refused(_("Choose a test."))
            subtest = None
            if request.POST.get("subtest"):
                subtest = Subtest.objects.filter(
                    test=test, public_id=parse_public_id(request.POST["subtest"])
                ).first()
            measures.follow_up_request_send(
                actor=request.user,
                organiser=organiser,
                test=test,
                subtest=subtest,
                question=request.POST.get("question", ""),
                due_on=datetime.date.fromisoformat(request.POST.get("due_on") or "x"),
            )
            return redirect("results-follow-up-requests")
        except (Refused, ValueError) as exc:
            error = str(exc) if isinstance(exc, Refused) else _("Give the due date as 2027-05-01.")
    return render(
        request,
        "results/follow_up_requests.html",
        {
            "organisers": organisers,
            "requests": FollowUpRequest.objects.filter(organiser__in=organisers).select_related(
                "test", "subtest"
            ),
            "tests": tests,
            "error": error,
            "kinds": measures.measure_kinds_for(organisers[0]),
        },
    )


@login_required
def follow_up_request_detail(request: AuthenticatedRequest, public_id) -> HttpResponse:
    found = FollowUpRequest.objects.filter(
        organiser__in=_organisers(request.user), public_id=public_id
    ).first()
    if found is None:
        raise NotFound("No such follow-up request.")
    return render(
        request,
        "results/follow_up_request.html",
        {"follow_up": found, "rows": measures.follow_up_overview(request=found)},
    )
