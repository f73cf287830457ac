"""Maps `Refused` to a page answer once, for every page (the API has `api_errors`).

A `NotFound` raised anywhere below a page becomes Django's 404, worded like any missing page; any
other refusal the page did not show itself becomes a short page with the reason and its status.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from provplattform.errors import NotFound, Refused


class RefusedMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            raise Http404(str(exception)) from exception
        if isinstance(exception, Refused):
            return render(
                request, "refused.html", {"message": str(exception)}, status=exception.status
            )
        return None


class PageRefusal:
    """Shows a refusal raised inside the block on the page about to be rendered again: as an error
    of `form` (on `field`, or the whole form), or as a message when there is no form.

    `status` is what that render answers: the refusal's status, 400 for a POSTed form with errors,
    otherwise 200. A `NotFound` is not shown here; it passes on to the edge (404).
    """

    def __init__(self, request: HttpRequest, form=None, field: str | None = None):
        self.request, self.form, self.field = request, form, field
        self.refused: Refused | None = None

    def __enter__(self) -> PageRefusal:
        return self

    def __exit__(self, kind, exc, traceback) -> bool:
        if not isinstance(exc, Refused) or isinstance(exc, NotFound):
            return False
        self.refused = exc
        if self.form is not None:
            self.form.add_error(self.field, str(exc))
        else:
            messages.error(self.request, str(exc))
        return True

    @property
    def status(self) -> int:
        if self.refused is not None:
            return self.refused.status
        if self.request.method == "POST" and self.form is not None and self.form.errors:
            return 400
        return 200


def shown_on(request: HttpRequest, form=None, field: str | None = None) -> PageRefusal:
    """`with shown_on(request, form): ...` shows a refusal inside the block on the page."""
    return PageRefusal(request, form, field)
