"""Result pages and exports: thin, every lookup through results.visibility."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from results import charts, exports, jobs, measures, selectors, visibility
from results.models import MeasureStatus, ResultSet
from schools.pages import AuthenticatedRequest
from schools.selectors import capabilities_at


def _marks(table: selectors.ResultTable) -> list[tuple[int, str]]:
    test = table.test
    if test.grade_boundaries:
        return [(points - 1, grade) for grade, points in test.grade_boundaries.items()]
    if test.concern_threshold is not None:
        return [(test.concern_threshold, _("Threshold"))]
    return []


def _newer(result_set: ResultSet, shown_version: int | None) -> bool:
    return shown_version is not None and shown_version < result_set.version


def _table_page(
    request: AuthenticatedRequest, scope, result_set, *, group=None, title: str
) -> HttpResponse:
    table = selectors.result_table(scope=scope, result_set=result_set, group=group)
    counts = table.distribution()
    return render(
        request,
        "results/table.html",
        {
            "unit": scope.school_unit,
            "scope": scope,
            "capabilities": capabilities_at(user=request.user, school_unit=scope.school_unit),
            "result_set": result_set,
            "group": group,
            "title": title,
            "table": table,
            "summary": table.summary(),
            "items": selectors.item_shares(table=table),
            "chart": charts.distribution_svg(
                counts, marks=_marks(table), title=_("Distribution of totals")
            ),
            "counts": list(enumerate(counts)),
        },
    )


@login_required
def overview(request: AuthenticatedRequest, unit) -> HttpResponse:
    scope = visibility.access_results(user=request.user, unit_public_id=unit)
    return render(
        request,
        "results/overview.html",
        {
            "unit": scope.school_unit,
            "scope": scope,
            "capabilities": capabilities_at(user=request.user, school_unit=scope.school_unit),
            "result_sets": selectors.result_sets_of(scope=scope),
            "groups": scope.groups().order_by("name"),
        },
    )


@login_required
def unit_results(request: AuthenticatedRequest, unit, result_set) -> HttpResponse:
    scope = visibility.access_unit_results(user=request.user, unit_public_id=unit)
    result_set = selectors.access_result_set(scope=scope, public_id=result_set)
    return _table_page(request, scope, result_set, title=scope.school_unit.name)


@login_required
def group_results(request: AuthenticatedRequest, unit, result_set, group) -> HttpResponse:
    scope = visibility.access_results(user=request.user, unit_public_id=unit)
    result_set = selectors.access_result_set(scope=scope, public_id=result_set)
    group = visibility.access_group(scope=scope, group_public_id=group)
    return _table_page(request, scope, result_set, group=group, title=group.name)


@login_required
def student_results(request: AuthenticatedRequest, unit, result_set, person) -> HttpResponse:
    scope = visibility.access_results(user=request.user, unit_public_id=unit)
    result_set = selectors.access_result_set(scope=scope, public_id=result_set)
    person = visibility.access_student(scope=scope, person_public_id=person)
    table = selectors.result_table(scope=scope, result_set=result_set, person=person)
    return render(
        request,
        "results/student.html",
        {
            "unit": scope.school_unit,
            "capabilities": capabilities_at(user=request.user, school_unit=scope.school_unit),
            "result_set": result_set,
            "person": person,
            "table": table,
            "row": table.rows[0] if table.rows else None,
            "responses": selectors.student_responses(
                scope=scope, result_set=result_set, person=person
            ),
            "measures": measures.measures_of(scope=scope).filter(
                person=person, subtest__test=result_set.test
            ),
            "kinds": measures.measure_kinds_for(scope.school_unit.organiser),
            "statuses": MeasureStatus.choices,
        },
    )


def _export_table(request: AuthenticatedRequest, unit, result_set):
    """The table an export asks for: ?group= or ?student=, else the whole unit (which needs the
    export right). Returns (scope, table, what, group)."""
    scope = visibility.access_results(user=request.user, unit_public_id=unit)
    result_set = selectors.access_result_set(scope=scope, public_id=result_set)
    if request.GET.get("group"):
        group = visibility.access_group(scope=scope, group_public_id=request.GET["group"])
        table = selectors.result_table(scope=scope, result_set=result_set, group=group)
        return scope, table, group.name, group
    if request.GET.get("student"):
        person = visibility.access_student(scope=scope, person_public_id=request.GET["student"])
        table = selectors.result_table(scope=scope, result_set=result_set, person=person)
        return scope, table, str(person.public_id), None
    scope = visibility.access_unit_results(user=request.user, unit_public_id=unit, export=True)
    table = selectors.result_table(scope=scope, result_set=result_set)
    return scope, table, scope.school_unit.name, None


def _as_job(request: AuthenticatedRequest, scope, table, group, kind: str) -> HttpResponse | None:
    """Over a few thousand rows the export is made by a worker, with progress on a page."""
    if len(table.rows) <= jobs.ASYNC_ROWS:
        return None
    job = jobs.export_job_start(
        actor=request.user, scope=scope, result_set=table.result_set, kind=kind, group=group
    )
    return redirect("results-job", unit=scope.school_unit.public_id, job=job.public_id)


def _filename(table, extension: str) -> str:
    return f"results-{table.test.code}-v{table.result_set.version}.{extension}"


@login_required
def export_csv(
    request: AuthenticatedRequest, unit, result_set
) -> HttpResponse | StreamingHttpResponse:
    scope, table, what, group = _export_table(request, unit, result_set)
    if queued := _as_job(request, scope, table, group, "csv"):
        return queued
    exports.export_audit(actor=request.user, table=table, kind="csv", what=what)
    response = StreamingHttpResponse(
        exports.csv_lines(exports.all_rows(table, what=what)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(table, "csv")}"'
    return response


@login_required
def export_xlsx(request: AuthenticatedRequest, unit, result_set) -> HttpResponse:
    scope, table, what, group = _export_table(request, unit, result_set)
    if queued := _as_job(request, scope, table, group, "xlsx"):
        return queued
    exports.export_audit(actor=request.user, table=table, kind="xlsx", what=what)
    response = HttpResponse(
        exports.xlsx_bytes(exports.all_rows(table, what=what)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(table, "xlsx")}"'
    return response
