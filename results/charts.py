"""Server-rendered SVG charts: no chart library in the browser. Each chart is drawn next to a data
table holding the same figures, for screen readers and printing."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 600, 220, 30


def distribution_svg(counts: list[int], *, marks: list[tuple[int, str]], title: str) -> SafeString:
    """Bars of how many students have each total; a dashed line at each threshold or grade
    boundary, drawn between the last total that is below and the first that is above it."""
    if not counts:
        return mark_safe("")
    slots = len(counts)
    bar = (WIDTH - 2 * PAD) / slots
    top = max(counts) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
    ]
    base = HEIGHT - PAD
    for total, count in enumerate(counts):
        height = (base - PAD) * count / top
        x = PAD + total * bar
        parts.append(
            f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{max(bar - 1, 1):.1f}" '
            f'height="{height:.1f}" class="chart__bar"><title>{total}: {count}</title></rect>'
        )
        if slots <= 40 or total % 5 == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{base + 14}" text-anchor="middle" '
                f'font-size="9">{total}</text>'
            )
    for points, label in marks:
        # A threshold: at or below is below, so the line sits after its bar.
        x = PAD + (points + 1) * bar
        parts.append(
            f'<line x1="{x:.1f}" y1="{PAD - 10}" x2="{x:.1f}" y2="{base}" stroke="currentColor" '
            f'stroke-dasharray="4 3" class="chart__mark"/>'
            f'<text x="{x + 2:.1f}" y="{PAD - 12}" font-size="10">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  every value above is a number or escaped
