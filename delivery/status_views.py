"""The public service-status page (/status/), /healthz for load balancers, and the platform
operator's page for posting and resolving announcements."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from delivery import announcement_services, sweeper
from delivery.models import Announcement
from provplattform.errors import NotFound
from schools.pages import AuthenticatedRequest

WORKER_FRESH_S = 15


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return "down"
    return "ok"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "in-process"
    import redis  # noqa: PLC0415 - optional: only when REDIS_URL is set

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        client.ping()
        client.close()
    except Exception:
        return "down"
    return "ok"


def _check_workers() -> str:
    """Fresh when the sweeper (Celery beat task or the in-process loop) ran in the last 15 s."""
    last = sweeper.last_run()
    if not last:
        return "unknown"
    if time.time() - float(last.get("at", 0)) > WORKER_FRESH_S:
        return "down"
    return "in-process" if last.get("mode") == "in-process" else "ok"


def health() -> dict:
    checks = {
        "web": "ok",
        "database": _check_database(),
        "redis": _check_redis(),
        "workers": _check_workers(),
    }
    if checks["database"] == "down":
        overall = "down"
    elif any(v in ("down", "unknown") for v in checks.values()):
        overall = "degraded"
    else:
        overall = "ok"
    return {"status": overall, "checks": checks}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the web node can serve (database up); 503 otherwise. Redis down is degraded."""
    result = health()
    return JsonResponse(result, status=503 if result["status"] == "down" else 200)


# Lazy: translated when a page is rendered, in the reader's language, not once at import.
CHECK_LABELS = {
    "web": gettext_lazy("Web"),
    "database": gettext_lazy("Database"),
    "redis": gettext_lazy("Redis (live notices)"),
    "workers": gettext_lazy("Workers (automatic submit, connectivity)"),
}


@never_cache
def status_page(request: HttpRequest) -> HttpResponse:
    result = health()
    state_labels = {
        "ok": pgettext("service health", "Working"),
        "in-process": _("Working (in-process)"),
        "degraded": _("Degraded"),
        "down": _("Not working"),
        "unknown": _("Unknown"),
    }
    return render(
        request,
        "delivery/status/status.html",
        {
            "overall": result["status"],
            "overall_label": state_labels[result["status"]],
            "checks": [
                {"name": CHECK_LABELS[k], "state": v, "label": state_labels[v]}
                for k, v in result["checks"].items()
            ],
            "announcements": announcement_services.announcements_visible()[:20],
        },
    )


def _operator(request: AuthenticatedRequest):
    if not getattr(request.user, "is_platform_operator", False):
        raise PermissionDenied(_("Only the platform operator posts announcements."))
    return request.user


@login_required
def announcements_manage(request: AuthenticatedRequest) -> HttpResponse:
    actor = _operator(request)
    error = ""
    if request.method == "POST":
        title = request.POST.get("title", "").strip()
        severity = request.POST.get("severity", Announcement.Severity.INFO)
        if not title:
            error = _("Give a title.")
        elif severity not in (Announcement.Severity.INFO, Announcement.Severity.DISRUPTION):
            error = _("Choose a severity.")
        else:
            announcement_services.announcement_post(
                actor=actor, title=title, body=request.POST.get("body", ""), severity=severity
            )
            return redirect("status-announcements")
    return render(
        request,
        "delivery/status/announcements.html",
        {
            "announcements": Announcement.objects.order_by("-visible_from")[:50],
            "error": error,
            "severities": [
                (Announcement.Severity.INFO, Announcement.Severity.INFO.label),
                (Announcement.Severity.DISRUPTION, Announcement.Severity.DISRUPTION.label),
            ],
        },
        status=400 if error else 200,
    )


@require_POST
@login_required
def announcement_resolve(request: AuthenticatedRequest, announcement) -> HttpResponse:
    actor = _operator(request)
    found = Announcement.objects.filter(public_id=announcement).first()
    if found is None:
        raise NotFound("No such announcement.")
    announcement_services.announcement_resolve(actor=actor, announcement=found)
    return redirect("status-announcements")
