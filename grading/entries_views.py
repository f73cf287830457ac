"""Pages for points of off-platform subtests and paper replacement tests: by hand per group, or
a spreadsheet form to download, fill in and upload, checked and shown before it is applied."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from exams.models import Subtest
from grading import entries_services as svc
from grading.desk_views import _render
from grading.entries_xlsx import MAX_UPLOAD_BYTES, build_form
from grading.models import EntryImport, SubtestEntry
from provplattform.errors import Conflict, Refused
from provplattform.lookup import get_by_public_id
from schools.models import Person, User
from schools.pages import AuthenticatedRequest


@login_required
def entries(request: AuthenticatedRequest, unit) -> HttpResponse:
    school_unit = svc.access_entry_unit(user=request.user, public_id=unit)
    groups = list(school_unit.teaching_groups.order_by("name"))
    group = None
    if request.GET.get("group"):
        group = svc.access_group(school_unit=school_unit, public_id=request.GET["group"])
    problems, status = [], 200
    if request.method == "POST" and group is not None:
        rows = []
        for key, value in request.POST.items():
            if not key.startswith("points-"):
                continue
            person, _sep, subtest = key[len("points-") :].partition("_")
            rows.append(
                {
                    "row": request.POST.get(f"label-{person}_{subtest}", ""),
                    "student": person,
                    "subtest": subtest,
                    "points": value,
                    "version": request.POST.get(f"version-{person}_{subtest}"),
                }
            )
        try:
            changed = svc.entries_save(actor=request.user, school_unit=school_unit, rows=rows)
        except svc.EntriesRefused as exc:
            problems, status = exc.problems, 400
        except Conflict as exc:
            messages.error(request, str(exc))
            status = 409
        else:
            messages.success(request, _("%(count)s entries saved.") % {"count": changed})
            url = reverse("grading-entries", args=[school_unit.public_id])
            return redirect(f"{url}?group={group.public_id}")
    sheet = svc.entry_sheet(school_unit=school_unit, group=group) if group else []
    if status != 200:
        for row in sheet:
            row.typed = request.POST.get(f"points-{row.key}")
    return _render(
        request,
        "grading/entries/entries.html",
        {
            "unit": school_unit,
            "groups": groups,
            "group": group,
            "sheet": sheet,
            "problems": problems,
            "max_mb": MAX_UPLOAD_BYTES // 2**20,
        },
        status,
    )


@login_required
def entries_form(request: AuthenticatedRequest, unit, group) -> HttpResponse:
    school_unit = svc.access_entry_unit(user=request.user, public_id=unit)
    target = svc.access_group(school_unit=school_unit, public_id=group)
    data = build_form(
        rows=svc.entry_sheet(school_unit=school_unit, group=target),
        title=f"{school_unit.name} {target.name}",
    )
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = slugify(f"points-{target.name}") or "points"
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@login_required
@require_POST
def entries_upload(request: AuthenticatedRequest, unit, group) -> HttpResponse:
    school_unit = svc.access_entry_unit(user=request.user, public_id=unit)
    target = svc.access_group(school_unit=school_unit, public_id=group)
    upload = request.FILES.get("file")
    back = reverse("grading-entries", args=[school_unit.public_id]) + f"?group={target.public_id}"
    if upload is None:
        messages.error(request, _("Choose the filled-in form (.xlsx)."))
        return redirect(back)
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        messages.error(
            request, _("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20}
        )
        return redirect(back)
    try:
        checked = svc.entry_import_check(
            actor=request.user,
            school_unit=school_unit,
            group=target,
            file_name=upload.name or "",
            data=upload.read(MAX_UPLOAD_BYTES + 1),
        )
    except Refused as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return redirect("grading-entry-import", school_unit.public_id, checked.public_id)


def access_entry_import(*, user: User, school_unit, public_id) -> EntryImport:
    """The uploader's own upload at the unit; anything else is NotFound."""
    return get_by_public_id(
        EntryImport.objects.select_related("group").filter(
            school_unit=school_unit, uploaded_by=user
        ),
        public_id,
    )


def import_report(entry_import: EntryImport) -> list[dict]:
    """The rows to apply with names and what each changes, for the report."""
    rows = entry_import.rows
    persons = {
        str(p.public_id): p
        for p in Person.objects.filter(public_id__in=[r["person"] for r in rows])
    }
    subtests = {
        str(s.public_id): s
        for s in Subtest.objects.filter(public_id__in=[r["subtest"] for r in rows])
    }
    current = {
        (str(e.person.public_id), str(e.subtest.public_id)): e.points
        for e in SubtestEntry.objects.filter(
            person__public_id__in=list(persons), subtest__public_id__in=list(subtests)
        ).select_related("person", "subtest")
    }
    return [
        {
            "row": r["row"],
            "person": persons.get(r["person"]),
            "subtest": subtests.get(r["subtest"]),
            "points": r["points"],
            "before": current.get((r["person"], r["subtest"])),
        }
        for r in rows
    ]


@login_required
def entry_import(request: AuthenticatedRequest, unit, entry_import) -> HttpResponse:
    school_unit = svc.access_entry_unit(user=request.user, public_id=unit)
    target = access_entry_import(user=request.user, school_unit=school_unit, public_id=entry_import)
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "discard":
            try:
                svc.entry_import_discard(actor=request.user, entry_import=target)
            except Refused as exc:
                messages.error(request, str(exc))
                status = 409
            else:
                messages.success(request, _("The upload was discarded; nothing was applied."))
        else:
            try:
                changed = svc.entry_import_apply(actor=request.user, entry_import=target)
            except svc.EntriesRefused as exc:
                messages.error(request, str(exc))
                target.problems = exc.problems or target.problems
                status = 400
            except Refused as exc:
                messages.error(request, str(exc))
                status = 409
            else:
                messages.success(request, _("%(count)s entries saved.") % {"count": changed})
        if status == 200:
            url = reverse("grading-entries", args=[school_unit.public_id])
            return redirect(f"{url}?group={target.group.public_id}" if target.group else url)
    return _render(
        request,
        "grading/entries/import.html",
        {"unit": school_unit, "upload": target, "report": import_report(target)},
        status,
    )
