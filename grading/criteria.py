"""Scoring criteria of an item as separate parts with points, where the guide gives them.

An item's scoring guide is text written by the test's authors. Where every part of it ends with
its points in brackets ("E: ställer upp ett samband (1 p). C: löser problemet (2 p)."), and those
add up to the item's maximum, the desk asks for points per criterion and the item's points are
their sum; otherwise the assessor gives the item's points directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = re.compile(
    r"\s*(?P<label>[^()]+?)\s*\((?P<points>\d+)\s*(?:p|pt|poäng|poeng)\.?\)\.?", re.I
)


@dataclass(frozen=True)
class Criterion:
    key: str  # "c1", "c2"…: the key in Score.criteria_points
    label: str
    max_points: int


def criteria_of(text: str, *, max_points: int) -> list[Criterion]:
    """The criteria of a scoring guide, or [] when the guide does not split the points."""
    text = (text or "").strip()
    parts: list[Criterion] = []
    position = 0
    for match in _PART.finditer(text):
        if text[position : match.start()].strip():
            return []  # text outside any part: not a points-per-criterion guide
        parts.append(
            Criterion(
                key=f"c{len(parts) + 1}",
                label=match["label"].strip(),
                max_points=int(match["points"]),
            )
        )
        position = match.end()
    if text[position:].strip() or len(parts) < 2:
        return []
    if sum(c.max_points for c in parts) != max_points:
        return []
    return parts
