"""Panels on a school unit's dashboard. Higher layers add theirs from AppConfig.ready():

    from schools.dashboard import register_panel
    register_panel("exams/panels/readiness.html", readiness_context, order=20)

`context(request, unit, capabilities)` returns a dict for the template, or None to hide the panel
(e.g. when the user lacks the capability). Schools never imports the apps that register here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PanelContext = Callable[[object, object, frozenset[str]], dict | None]


@dataclass(frozen=True)
class Panel:
    template: str
    context: PanelContext
    order: int = 50


_panels: list[Panel] = []


def register_panel(template: str, context: PanelContext, *, order: int = 50) -> None:
    if any(p.template == template for p in _panels):
        return
    _panels.append(Panel(template, context, order))
    _panels.sort(key=lambda p: p.order)


def panels_for(request, unit, capabilities: frozenset[str]) -> list[dict]:
    """Rendered-ready panels: [{"template": ..., "context": {...}}], in order."""
    shown = []
    for panel in _panels:
        context = panel.context(request, unit, capabilities)
        if context is not None:
            shown.append({"template": panel.template, "context": context})
    return shown
