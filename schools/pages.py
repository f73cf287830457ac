"""The one way a page of a school unit starts: signed in, the unit from the URL, the capability.

    @unit_page(Capability.ADMINISTER_TESTS)
    def rooms(request, school_unit): ...

The `unit` of the URL is resolved inside the user's scope: a unit where they lack the capability
answers 404, exactly like a unit that does not exist. Refusals the page does not show itself
(`provplattform.page_errors.shown_on`) are answered by the edge (`RefusedMiddleware`); with
`refused_to`, an action page instead shows the reason as a message on the named page of the unit.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from provplattform.errors import NotFound, Refused
from schools.models import SchoolUnit, User
from schools.roles import Capability
from schools.selectors import access_school_unit

PageView = Callable[..., HttpResponse]


class AuthenticatedRequest(HttpRequest):
    """The request of a page behind `login_required` or `unit_page`: its user has signed in."""

    user: User


def unit_page(
    capability: Capability | str, *, refused_to: str | None = None
) -> Callable[[PageView], PageView]:
    def decorate(view: PageView) -> PageView:
        @login_required
        @wraps(view)
        def page(request: HttpRequest, unit: Any, *args: Any, **kwargs: Any) -> HttpResponse:
            school_unit: SchoolUnit = access_school_unit(
                user=request.user, public_id=unit, capability=capability
            )
            try:
                return view(request, school_unit, *args, **kwargs)
            except NotFound:
                raise
            except Refused as exc:
                if refused_to is None:
                    raise
                messages.error(request, str(exc))
                return redirect(refused_to, school_unit.public_id)

        page.capability = capability  # type: ignore[attr-defined]
        return page

    return decorate
