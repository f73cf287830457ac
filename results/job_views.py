"""Pages that start or answer work: letter batches and export jobs (progress, download), a
measure recorded from the student page, the answer to a follow-up request, recompute now."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from provplattform.errors import NotFound, Refused
from results import jobs, letters, selectors, visibility
from results.measures import follow_up_answer as answer
from results.measures import measure_record
from results.services import results_compute
from schools.pages import AuthenticatedRequest
from schools.selectors import capabilities_at


def _context(request: AuthenticatedRequest, scope, **extra) -> dict:
    return {
        "unit": scope.school_unit,
        "capabilities": capabilities_at(user=request.user, school_unit=scope.school_unit),
        **extra,
    }


@login_required
def group_letters(request: AuthenticatedRequest, unit, result_set, group) -> HttpResponse:
    """Choose the letters of a group (below, and by choice just above) and each one's language;
    a POST queues the batch."""
    scope = visibility.access_results(user=request.user, unit_public_id=unit)
    result_set = selectors.access_result_set(scope=scope, public_id=result_set)
    group = visibility.access_group(scope=scope, group_public_id=group)
    include_just_above = request.POST.get("include_just_above") == "on" or (
        request.GET.get("include_just_above") == "on"
    )
    table = selectors.result_table(scope=scope, result_set=result_set, group=group)
    rows = letters.letter_rows(table, include_just_above=include_just_above)
    if request.method == "POST":
        languages = {
            row.public_id: request.POST.get(f"language-{row.public_id}", "")
            for row in rows
            if request.POST.get(f"language-{row.public_id}", "") in letters.LANGUAGES
        }
        job = jobs.export_job_start(
            actor=request.user,
            scope=scope,
            result_set=result_set,
            kind="letters",
            group=group,
            options={"languages": languages, "include_just_above": include_just_above},
        )
        return redirect("results-job", unit=scope.school_unit.public_id, job=job.public_id)
    return render(
        request,
        "results/letters_form.html",
        _context(
            request,
            scope,
            result_set=result_set,
            group=group,
            rows=rows,
            include_just_above=include_just_above,
            default_language=letters.default_language(scope.school_unit),
            languages=[("sv", "Svenska"), ("nb", "Norsk bokmål"), ("en", "English")],
        ),
    )


@login_required
@require_POST
def export_start(request: AuthenticatedRequest, unit, result_set) -> HttpResponse:
    """A large export (unit, or ?group=) as a job."""
    scope = visibility.access_results(user=request.user, unit_public_id=unit)
    result_set = selectors.access_result_set(scope=scope, public_id=result_set)
    group = None
    if request.POST.get("group"):
        group = visibility.access_group(scope=scope, group_public_id=request.POST["group"])
    else:
        scope = visibility.access_unit_results(user=request.user, unit_public_id=unit, export=True)
    kind = request.POST.get("kind", "")
    if kind not in ("csv", "xlsx"):
        kind = "csv"
    job = jobs.export_job_start(
        actor=request.user, scope=scope, result_set=result_set, kind=kind, group=group
    )
    return redirect("results-job", unit=scope.school_unit.public_id, job=job.public_id)


@login_required
def job_detail(request: AuthenticatedRequest, unit, job) -> HttpResponse:
    scope = visibility.access_results(user=request.user, unit_public_id=unit)
    job = jobs.access_job(user=request.user, school_unit=scope.school_unit, public_id=job)
    template = "results/_job.html" if request.headers.get("HX-Request") else "results/job.html"
    return render(request, template, _context(request, scope, job=job))


@login_required
def job_download(request: AuthenticatedRequest, unit, job) -> HttpResponse | FileResponse:
    scope = visibility.access_results(user=request.user, unit_public_id=unit)
    job = jobs.access_job(user=request.user, school_unit=scope.school_unit, public_id=job)
    if not job.file:
        return redirect("results-job", unit=scope.school_unit.public_id, job=job.public_id)
    name = f"results-{job.result_set.test.code}-v{job.version}.{job.file.name.rsplit('.', 1)[-1]}"
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=name)


@login_required
@require_POST
def follow_up_answer(request: AuthenticatedRequest, unit) -> HttpResponse:
    """The school answers the organiser's request from the measures it recorded."""
    scope = visibility.access_results(user=request.user, unit_public_id=unit)
    if not request.POST.get("follow_up"):
        # The form always names its request: a post without one is malformed (400, as in the
        # API), not a request that was looked for and not found.
        return HttpResponseBadRequest(_("Say which follow-up request you answer."))
    answer(
        actor=request.user,
        scope=scope,
        request_public_id=request.POST["follow_up"],
        note=request.POST.get("note", "")[:2000],
    )
    return redirect("unit-dashboard", unit=scope.school_unit.public_id)


@login_required
@require_POST
def student_measure_add(request: AuthenticatedRequest, unit, result_set, person) -> HttpResponse:
    """Record a measure from the student's result page; refusals are shown there."""
    scope = visibility.access_results(user=request.user, unit_public_id=unit)
    result_set = selectors.access_result_set(scope=scope, public_id=result_set)
    person = visibility.access_student(scope=scope, person_public_id=person)
    try:
        measure_record(
            actor=request.user,
            scope=scope,
            person_public_id=person.public_id,
            subtest_public_id=request.POST.get("subtest") or None,
            kind_public_id=request.POST.get("kind") or None,
            starts_on=datetime.date.fromisoformat(request.POST.get("starts_on") or ""),
            note=request.POST.get("note", "")[:2000],
            status=request.POST.get("status") or "planned",
        )
    except (ValueError, Refused) as exc:
        if isinstance(exc, NotFound) and "student" in str(exc):
            raise
        messages.error(request, str(exc) if isinstance(exc, Refused) else _("Give a start date."))
    return redirect(
        "results-student",
        unit=scope.school_unit.public_id,
        result_set=result_set.public_id,
        person=person.public_id,
    )


@login_required
@require_POST
def recompute(request: AuthenticatedRequest, unit, result_set) -> HttpResponse:
    """Whole-unit viewers recompute a test's results now (after marking absences, say)."""
    scope = visibility.access_unit_results(user=request.user, unit_public_id=unit)
    result_set = selectors.access_result_set(scope=scope, public_id=result_set)
    results_compute(
        school_unit=scope.school_unit, test=result_set.test, actor=request.user, reason="asked"
    )
    return redirect(
        "results-unit", unit=scope.school_unit.public_id, result_set=result_set.public_id
    )
