"""Maps `Refused` to an API answer once, for every DRF view."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from provplattform.errors import Refused


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Refused):
        return Response({"detail": str(exc), "code": exc.code}, status=exc.status)
    return drf_exception_handler(exc, context)
