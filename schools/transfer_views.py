"""Pages for transfers: runs and their reports, spreadsheet upload and template, API tokens.

Organiser administrators see runs, upload spreadsheets (for their whole organiser or one of its
units) and manage API tokens; a school's administrator (who may assign roles at a unit) only reads
the runs uploaded for that unit. Anyone else gets 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from provplattform.errors import NotFound
from schools.models import Organiser, TransferStatus, User
from schools.pages import AuthenticatedRequest
from schools.transfer.selectors import (
    access_run,
    access_token,
    access_unit_for_upload,
    is_organiser_admin,
    organisers_administered_by,
    run_units_for,
    runs_for_user,
    runs_summarised,
    tokens_for_user,
    upload_units_for,
)
from schools.transfer.services import (
    transfer_run_progress,
    transfer_runs_fail_stale,
    transfer_submit_xlsx,
)
from schools.transfer.tokens import api_token_create, api_token_revoke
from schools.transfer.xlsx import SHEETS, XlsxRefused, build_template

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _organisers(user: User):
    return Organiser.objects.filter(id__in=organisers_administered_by(user))


def _require_transfer_access(user: User) -> None:
    if not (is_organiser_admin(user) or run_units_for(user).exists()):
        raise NotFound("No transfers here.")


def _require_organiser_admin(user: User) -> None:
    if not is_organiser_admin(user):
        raise NotFound("No uploads here.")


@login_required
def transfer_runs(request: AuthenticatedRequest):
    _require_transfer_access(request.user)
    transfer_runs_fail_stale(runs=runs_for_user(request.user))
    runs = runs_summarised(runs_for_user(request.user)).order_by("-created")[:200]
    return render(
        request,
        "schools/transfer/runs.html",
        {"runs": runs, "is_organiser_admin": is_organiser_admin(request.user)},
    )


@login_required
def transfer_run_detail(request: AuthenticatedRequest, public_id):
    run = access_run(user=request.user, public_id=public_id)
    if run.status == TransferStatus.RUNNING and transfer_runs_fail_stale(
        runs=runs_for_user(request.user).filter(pk=run.pk)
    ):
        run.refresh_from_db()
    context = {
        "run": run,
        "progress": transfer_run_progress(run),
        "active": run.status in (TransferStatus.QUEUED, TransferStatus.RUNNING),
        "report": run.report or {},
        "is_organiser_admin": is_organiser_admin(request.user),
    }
    if request.headers.get("HX-Request"):
        return render(request, "schools/transfer/_run_status.html", context)
    return render(request, "schools/transfer/run_detail.html", context)


@login_required
def transfer_upload(request: AuthenticatedRequest):
    _require_organiser_admin(request.user)
    organisers = list(_organisers(request.user))
    units = list(upload_units_for(request.user).select_related("organiser"))
    error = ""
    if request.method == "POST":
        target = request.POST.get("target", "")
        upload = request.FILES.get("file")
        organiser, unit = None, None
        kind, _sep, public_id = target.partition(":")
        if kind == "organiser":
            organiser = next((o for o in organisers if str(o.public_id) == public_id), None)
        elif kind == "unit":
            unit = access_unit_for_upload(user=request.user, public_id=public_id)
            organiser = unit.organiser
        if organiser is None:
            error = _("Choose what the upload is for.")
        elif upload is None:
            error = _("Choose a spreadsheet file (.xlsx).")
        elif (upload.size or 0) > MAX_UPLOAD_BYTES:
            error = _("The file is too large.")
        else:
            try:
                run = transfer_submit_xlsx(
                    organiser=organiser, data=upload.read(), actor=request.user, school_unit=unit
                )
            except XlsxRefused as refusal:
                error = str(refusal)
            else:
                return redirect("transfer-run", public_id=run.public_id)
    return render(
        request,
        "schools/transfer/upload.html",
        {
            "organisers": organisers,
            "units": units,
            "error": error,
            "sheets": SHEETS,
            "is_organiser_admin": bool(organisers),
        },
        status=400 if error else 200,
    )


@login_required
def transfer_template(request: AuthenticatedRequest):
    _require_organiser_admin(request.user)
    response = HttpResponse(
        build_template(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="transfer-template.xlsx"'
    return response


@never_cache
@login_required
def api_tokens(request: AuthenticatedRequest):
    if not is_organiser_admin(request.user):
        raise NotFound("No tokens here.")
    organisers = list(_organisers(request.user))
    created = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        asked = request.POST.get("organiser", "")
        organiser = next((o for o in organisers if str(o.public_id) == asked), None)
        if asked and organiser is None:
            # Another organiser's id is as unknown as a missing one: never one's own instead.
            raise NotFound()
        if organiser is None and len(organisers) == 1:
            organiser = organisers[0]
        if not name or organiser is None:
            messages.error(request, _("Give the token a name and an organiser."))
        else:
            token, plain = api_token_create(organiser=organiser, name=name, actor=request.user)
            created = {"token": token, "plain": plain}
    tokens = tokens_for_user(request.user).order_by("-created")
    return render(
        request,
        "schools/transfer/tokens.html",
        {"tokens": tokens, "organisers": organisers, "created": created},
    )


@login_required
@require_POST
def api_token_revoke_view(request: AuthenticatedRequest, public_id):
    token = access_token(user=request.user, public_id=public_id)
    api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("The token %(name)s was revoked.") % {"name": token.name})
    return redirect("transfer-tokens")
