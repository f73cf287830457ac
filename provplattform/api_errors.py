"""Maps `Refused` to an API answer once, for every DRF view."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from provplattform.errors import Refused


def _code(exc: Exception) -> str:
    if isinstance(exc, Http404):
        return "not_found"
    if isinstance(exc, PermissionDenied):
        return "permission_denied"
    if isinstance(exc, APIException):
        codes = exc.get_codes()
        return codes if isinstance(codes, str) else str(exc.default_code)
    return "error"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Refused):
        return Response({"detail": str(exc), "code": exc.code}, status=exc.status)
    if isinstance(exc, DataError):
        # A value the database cannot store (beyond the column): the input is wrong, a 400.
        detail = _("A value is too large or too long to be stored.")
        return Response({"detail": detail, "code": "invalid"}, status=400)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    # Every error answer carries `detail` and `code`, as the refusals the schema documents do;
    # field errors stay beside them.
    errors = response.data
    if isinstance(exc, ValidationError) and isinstance(errors, dict) and "detail" not in errors:
        response.data = {"detail": str(_("Invalid input.")), "code": "invalid", **errors}
    elif isinstance(exc, ValidationError) and isinstance(errors, list):
        response.data = {
            "detail": str(_("Invalid input.")),
            "code": "invalid",
            "non_field_errors": errors,
        }
    elif isinstance(errors, dict) and not isinstance(errors.get("code"), str):
        response.data = {**errors, "detail": str(errors.get("detail", "")), "code": _code(exc)}
    return response
