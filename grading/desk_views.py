"""Pages of the assessor's desk: the queue, one response at a time, the projector view, a printable
batch and the entry of its points, overriding a machine score. Thin: scope, call a service, render.

The response page works without script (the form posts and moves on); static/js/desk.js saves
through the API without a reload and adds the keyboard.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grading import desk_selectors as sel
from grading import desk_services, scoring_services
from grading.anonymity import student_code
from grading.models import ScoreSource
from provplattform.errors import Conflict, Refused
from schools.pages import AuthenticatedRequest
from schools.roles import Capability
from schools.selectors import access_school_unit, capabilities_at


def _unit(request: AuthenticatedRequest, unit, capability=Capability.ASSESS):
    return access_school_unit(user=request.user, public_id=unit, capability=capability)


def _render(
    request: AuthenticatedRequest, template: str, context: dict, status: int = 200
) -> HttpResponse:
    context.setdefault(
        "capabilities", capabilities_at(user=request.user, school_unit=context["unit"])
    )
    return render(request, template, context, status=status)


def _anonymous(request: HttpRequest) -> bool:
    """Anonymous mode is on unless switched off; the choice is kept in the session."""
    if "anonymous" in request.GET:
        request.session["desk_anonymous"] = request.GET["anonymous"] != "0"
    return request.session.get("desk_anonymous", True)


@login_required
def desk(request: AuthenticatedRequest, unit) -> HttpResponse:
    school_unit = _unit(request, unit)
    filters = sel.QueueFilter.from_params(request.GET)
    queue = sel.desk_queue(user=request.user, school_unit=school_unit, filters=filters)
    rows = list(queue[:500])
    anonymous = _anonymous(request)
    for score in rows:
        score.code = student_code(
            subtest_public_id=score.item.subtest.public_id,
            person_public_id=score.attempt.person.public_id,
        )
    return _render(
        request,
        "grading/desk/queue.html",
        {
            "unit": school_unit,
            "rows": rows,
            "filters": filters,
            "query": filters.as_query(),
            "items": sel.desk_items(user=request.user, school_unit=school_unit),
            "progress": sel.desk_progress(user=request.user, school_unit=school_unit),
            "anonymous": anonymous,
            "second_markings": sel.my_second_markings(user=request.user, school_unit=school_unit)
            .filter(points__isnull=True)
            .count(),
        },
    )


def response_context(request: AuthenticatedRequest, school_unit, score, filters) -> dict:
    queue = sel.desk_queue(user=request.user, school_unit=school_unit, filters=filters)
    return {
        "unit": school_unit,
        "view": sel.response_view(score=score),
        "place": sel.neighbours(queue, score),
        "filters": filters,
        "query": filters.as_query(),
        "progress": sel.desk_progress(user=request.user, school_unit=school_unit),
        "anonymous": _anonymous(request),
        "machine_scores": sel.machine_scores_of_attempt(
            user=request.user, school_unit=school_unit, score=score
        ),
    }


def score_form(request: HttpRequest) -> dict:
    """The points, criteria points, comment and version a score form posted."""
    criteria = {
        key[len("criterion-") :]: value
        for key, value in request.POST.items()
        if key.startswith("criterion-") and value != ""
    }
    return {
        "points": request.POST.get("points"),
        "criteria_points": criteria or None,
        "comment": request.POST.get("comment", ""),
        "version": request.POST.get("version"),
    }


def _next_url(school_unit, place: dict, query: str) -> str:
    target = place.get("next")
    if target is None:
        url = reverse("grading-desk", args=[school_unit.public_id])
    else:
        url = reverse("grading-desk-response", args=[school_unit.public_id, target])
    return f"{url}?{query}" if query else url


@login_required
def desk_response(request: AuthenticatedRequest, unit, score) -> HttpResponse:
    school_unit = _unit(request, unit)
    target = sel.access_assigned_score(user=request.user, school_unit=school_unit, public_id=score)
    filters = sel.QueueFilter.from_params(request.GET)
    status, error = 200, ""
    if request.method == "POST":
        try:
            scoring_services.score_save(
                actor=request.user, score=target, school_unit=school_unit, **score_form(request)
            )
        except Conflict:
            target.refresh_from_db()
            status = 409
            error = _(
                "Someone else saved a score for this response in the meantime. "
                "Their score is shown below; nothing of yours was saved."
            )
        except Refused as exc:
            status, error = 400, str(exc)
        else:
            messages.success(request, _("Score saved."))
            context = response_context(request, school_unit, target, filters)
            return redirect(_next_url(school_unit, context["place"], context["query"]))
    context = response_context(request, school_unit, target, filters)
    context["error"] = error
    return _render(request, "grading/desk/response.html", context, status)


@login_required
def desk_projector(request: AuthenticatedRequest, unit, score) -> HttpResponse:
    """Large type, always anonymous, no controls but previous and next (co-assessment)."""
    school_unit = _unit(request, unit)
    target = sel.access_assigned_score(user=request.user, school_unit=school_unit, public_id=score)
    filters = sel.QueueFilter.from_params(request.GET)
    context = response_context(request, school_unit, target, filters)
    return _render(request, "grading/desk/projector.html", context)


@login_required
@require_POST
def desk_flag(request: AuthenticatedRequest, unit, score) -> HttpResponse:
    school_unit = _unit(request, unit)
    target = sel.access_assigned_score(user=request.user, school_unit=school_unit, public_id=score)
    desk_services.score_flag_set(
        actor=request.user, score=target, flagged=request.POST.get("flagged") == "1"
    )
    url = reverse("grading-desk-response", args=[school_unit.public_id, target.public_id])
    query = sel.QueueFilter.from_params(request.GET).as_query()
    return redirect(f"{url}?{query}" if query else url)


@login_required
def desk_print(request: AuthenticatedRequest, unit) -> HttpResponse:
    """A printable batch of the (filtered) queue for marking on paper."""
    school_unit = _unit(request, unit)
    filters = sel.QueueFilter.from_params(request.GET)
    queue = sel.desk_queue(user=request.user, school_unit=school_unit, filters=filters)
    views = [sel.response_view(score=score) for score in queue[:200]]
    return _render(
        request,
        "grading/desk/print.html",
        {"unit": school_unit, "views": views, "anonymous": _anonymous(request),
         "query": filters.as_query()},
    )  # fmt: skip


@login_required
def desk_batch_entry(request: AuthenticatedRequest, unit) -> HttpResponse:
    """Points marked on paper, entered afterwards for the same batch: one field per response.
    Each response is saved on its own, with its version; a conflict is listed, not lost."""
    school_unit = _unit(request, unit)
    filters = sel.QueueFilter.from_params(request.GET)
    queue = list(sel.desk_queue(user=request.user, school_unit=school_unit, filters=filters)[:200])
    views = [sel.response_view(score=score) for score in queue]
    problems: list[dict] = []
    saved = 0
    if request.method == "POST":
        for view in views:
            key = str(view.score.public_id)
            value = request.POST.get(f"points-{key}", "").strip()
            if value == "":
                continue
            if view.score.points is not None and str(view.score.points) == value:
                continue
            try:
                scoring_services.score_save(
                    actor=request.user,
                    score=view.score,
                    school_unit=school_unit,
                    points=value,
                    criteria_points=None,
                    comment=view.score.comment,
                    version=request.POST.get(f"version-{key}"),
                )
                saved += 1
            except Conflict:
                view.score.refresh_from_db()
                problems.append({"view": view, "message": _("Changed by someone else; not saved.")})
            except Refused as exc:
                problems.append({"view": view, "message": str(exc)})
        if not problems:
            messages.success(request, _("%(count)s scores saved.") % {"count": saved})
            url = reverse("grading-desk", args=[school_unit.public_id])
            return redirect(f"{url}?{filters.as_query()}")
    return _render(
        request,
        "grading/desk/batch_entry.html",
        {
            "unit": school_unit,
            "views": views,
            "problems": problems,
            "saved": saved,
            "anonymous": _anonymous(request),
            "query": filters.as_query(),
        },
        400 if problems else 200,
    )


def _safe_back(request: HttpRequest, url: str | None) -> str:
    """A page of this site to return to, never an address elsewhere."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


@login_required
def desk_override(request: AuthenticatedRequest, unit, score) -> HttpResponse:
    """Override a machine score, with a reason: the attempt's assessor, or the lead."""
    school_unit = access_school_unit(
        user=request.user, public_id=unit, capability=Capability.VIEW_STUDENTS
    )
    target = sel.access_overridable_score(
        user=request.user, school_unit=school_unit, public_id=score
    )
    status, error = 200, ""
    if request.method == "POST":
        try:
            desk_services.score_override(
                actor=request.user,
                score=target,
                points=request.POST.get("points"),
                reason=request.POST.get("reason", ""),
                version=request.POST.get("version"),
            )
        except Conflict:
            target.refresh_from_db()
            status, error = 409, _("Someone else changed this score in the meantime.")
        except Refused as exc:
            status, error = 400, str(exc)
        else:
            messages.success(request, _("The machine score was overridden."))
            return redirect(
                _safe_back(request, request.POST.get("back"))
                or reverse("grading-desk", args=[unit])
            )
    return _render(
        request,
        "grading/desk/override.html",
        {
            "unit": school_unit,
            "view": sel.response_view(score=target),
            "error": error,
            "is_machine": target.source == ScoreSource.MACHINE,
            "back": _safe_back(request, request.GET.get("back") or request.POST.get("back")),
            "anonymous": _anonymous(request),
        },
        status,
    )
