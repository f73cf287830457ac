"""The edge of every page request: input no layer can store is refused before a view runs, and a
refusal a view did not handle becomes the right page instead of a server error."""

from __future__ import annotations

from django.db import DataError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from provplattform.errors import NotFound, Refused
from provplattform.inputs import text_problem


class TextGuardMiddleware:
    """Refuses (400) a request whose path, query string, form fields or file names carry text
    that cannot be stored, before any view sees it. JSON bodies are checked by `loads_json`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        values = [request.path, *_values(request.GET)]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            values += _values(request.POST)
            values += [f.name or "" for f in request.FILES.values()]
        for value in values:
            if problem := text_problem(value):
                return bad_request(request, problem)
        return None


def bad_request(request, detail: str) -> HttpResponse:
    """The 400 page with the reason; JSON for a request that asked for it."""
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": detail, "code": "invalid"}, status=400)
    return render(request, "400.html", {"detail": detail}, status=400)


class RefusalMiddleware:
    """`NotFound` is the 404 page (worded like any missing page); another `Refused` a 400 with its
    message. A value the database refuses to store (a number beyond the column, a string too
    long: `DataError`) is a 400 too: it is the input that is wrong, not the server."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            raise Http404(str(exception)) from exception
        if isinstance(exception, Refused):
            return bad_request(request, str(exception))
        if isinstance(exception, DataError):
            return bad_request(request, _("A value is too large or too long to be stored."))
        return None


def _values(query) -> list[str]:
    return [text for key, values in query.lists() for text in (key, *values)]
