"""The one place where untrusted input is checked for what no layer below can store or survive.

Two classes of input used to reach a 500; each is caught here once:

* text: a NUL character (PostgreSQL refuses it) or a lone surrogate (no encoder can write it) —
  `text_problem` answers for one string; `provplattform.middleware.TextGuardMiddleware` applies
  it to every query string, form field and uploaded file name, `loads_json` to every string (and
  key) of a JSON body, and the transfer's schema check to every value of a record;
* JSON: nesting deeper than `JSON_MAX_DEPTH` (the standard parser recurses), numbers longer than
  `JSON_MAX_NUMBER_DIGITS` digits, NaN and Infinity (PostgreSQL's jsonb refuses them) —
  `loads_json`, shared by the API's parser (`LimitedJSONParser`) and the autosave route.

Integers beyond what a column takes are bounded by the serializers and forms that read them; a
`DataError` that still reaches the edge is a 400 (`provplattform.api_errors`,
`provplattform.middleware.RefusalMiddleware`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

JSON_MAX_DEPTH = 32
JSON_MAX_NUMBER_DIGITS = 24

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    match = _BAD_TEXT.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return str(_("Text may not contain a NUL character."))
    return str(_("Text may not contain an unpaired surrogate character."))


class JSONRefused(ValueError):
    """A JSON document the platform does not accept; `str()` says why."""


def _number(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        if len(text) > JSON_MAX_NUMBER_DIGITS:
            raise JSONRefused(str(_("A number in the JSON document is too long.")))
        value = kind(text)
        if not math.isfinite(value):  # 1e999 parses as infinity
            raise JSONRefused(str(_("NaN and Infinity are not JSON numbers.")))
        return value

    return parse


def _no_constant(name: str) -> Any:
    raise JSONRefused(str(_("NaN and Infinity are not JSON numbers.")))


def check_json_tree(data: Any, *, max_depth: int = JSON_MAX_DEPTH) -> None:
    """Depth and text of an already parsed document (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if problem := text_problem(node):
                raise JSONRefused(problem)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > max_depth:
            raise JSONRefused(
                str(_("The JSON document is nested deeper than %(n)s levels.") % {"n": max_depth})
            )
        if isinstance(node, dict):
            stack.extend((key, depth) for key in node)
            stack.extend((value, depth + 1) for value in node.values())
        else:
            stack.extend((value, depth + 1) for value in node)


def loads_json(raw: bytes | str, *, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """Parse untrusted JSON with limits; raises JSONRefused (a ValueError) with a short reason."""
    try:
        data = json.loads(
            raw,
            parse_int=_number(int),
            parse_float=_number(float),
            parse_constant=_no_constant,
        )
    except RecursionError as exc:
        raise JSONRefused(
            str(_("The JSON document is nested deeper than %(n)s levels.") % {"n": max_depth})
        ) from exc
    except JSONRefused:
        raise
    except (ValueError, TypeError) as exc:  # JSONDecodeError, bad UTF-8
        raise JSONRefused(str(_("The body is not valid JSON."))) from exc
    check_json_tree(data, max_depth=max_depth)
    return data


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser with the limits of `loads_json` (settings: DEFAULT_PARSER_CLASSES)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return loads_json(stream.read() if stream is not None else b"")
        except JSONRefused as exc:
            raise ParseError(str(exc)) from exc
