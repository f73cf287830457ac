"""Readable names for the codes stored in test definitions and adjustments."""

from __future__ import annotations

from django import template

from exams.models import AdjustmentKind, Tool

register = template.Library()

_LABELS = {**dict(Tool.choices), **dict(AdjustmentKind.choices)}


def code_label(code: str) -> str:
    """The translated name of a tool or adjustment code; an unknown code as it is."""
    return str(_LABELS.get(str(code), code))


@register.filter
def code_labels(codes) -> str:
    """`["calculator", "read_aloud"]` → "Calculator, Read aloud" in the user's language."""
    return ", ".join(code_label(c) for c in (codes or []))
