"""The API's pagination: DRF's limit/offset with a ceiling on the limit, so a limit of a hundred
digits is a page of at most MAX_LIMIT rows, never a number the database refuses."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000
