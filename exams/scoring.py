"""Machine scoring of one response to one item.

Response content has the shape the test client saves: a list of choice ids for choice items
(a single id is accepted too), a string for text entry and numeric items.

Rules (also in docs/test-definitions.md):
- single choice: full points when exactly one choice is given and it is a correct one;
- multiple choice: all or nothing — full points only when the chosen set equals the key;
- text entry: full points when the answer equals an accepted answer, ignoring case and
  surrounding/repeated whitespace;
- numeric: full points when |answer − value| ≤ tolerance; a decimal comma and spaces between
  digit groups are accepted ("1 234,5");
- extended text: None — a person assesses it.
An empty or unreadable response scores 0.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from exams.models import Item, ItemKind

_SPACE = re.compile(r"\s+")


def normalise_text(value: str) -> str:
    return _SPACE.sub(" ", str(value)).strip().casefold()


def parse_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = _SPACE.sub("", str(value)).replace("\u2212", "-").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return float(number) if number.is_finite() else None


def _chosen(content: Any) -> list[str] | None:
    if isinstance(content, str):
        return [content] if content else []
    if isinstance(content, list | tuple) and all(isinstance(c, str) for c in content):
        return list(content)
    return None


def score_item(item: Item, content: Any) -> int | None:
    """Points for `content` on `item`; None for items a person assesses."""
    kind = item.kind
    if kind == ItemKind.EXTENDED_TEXT:
        return None
    key = item.answer_key
    full = int(item.max_points)
    if kind in (ItemKind.SINGLE_CHOICE, ItemKind.MULTIPLE_CHOICE):
        chosen = _chosen(content)
        if not chosen:
            return 0
        correct = {str(k) for k in (key or [])}
        if kind == ItemKind.SINGLE_CHOICE:
            return full if len(set(chosen)) == 1 and chosen[0] in correct else 0
        return full if set(chosen) == correct else 0
    if kind == ItemKind.TEXT_ENTRY:
        if not isinstance(content, str | int | float) or isinstance(content, bool):
            return 0
        answer = normalise_text(str(content))
        if not answer:
            return 0
        accepted = {normalise_text(a) for a in (key or [])}
        return full if answer in accepted else 0
    if kind == ItemKind.NUMERIC:
        number = parse_number(content)
        if number is None or not isinstance(key, dict):
            return 0
        value = parse_number(key.get("value"))
        tolerance = abs(parse_number(key.get("tolerance", 0)) or 0.0)
        if value is None:
            return 0
        # A small relative margin absorbs binary rounding (0.1 + 0.2 against 0.3).
        margin = tolerance + 1e-9 * max(1.0, abs(value))
        return full if abs(number - value) <= margin else 0
    return 0
