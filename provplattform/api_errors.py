"""Maps `Refused` to an API answer once, for every DRF view."""

from __future__ import annotations

from typing import Any

from django.db import DataError
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from provplattform.errors import Refused


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Refused):
        return Response({"detail": str(exc), "code": exc.code}, status=exc.status)
    if isinstance(exc, DataError):
        # A value the database cannot store (beyond the column): the input is wrong, a 400.
        detail = _("A value is too large or too long to be stored.")
        return Response({"detail": detail, "code": "invalid"}, status=400)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, ValidationError) and response is not None:
        # Every 400 carries `detail` and `code`, as the refusals the schema documents do; field
        # errors stay beside them.
        errors = response.data
        if isinstance(errors, dict) and "detail" not in errors:
            response.data = {"detail": str(_("Invalid input.")), "code": "invalid", **errors}
        elif isinstance(errors, dict) and not isinstance(errors.get("code"), str):
            response.data = {**errors, "detail": str(errors["detail"]), "code": "invalid"}
        elif isinstance(errors, list):
            response.data = {
                "detail": str(_("Invalid input.")),
                "code": "invalid",
                "non_field_errors": errors,
            }
    return response
