"""Entries in the main menu. Higher layers add theirs from AppConfig.ready():

    from schools.navigation import register_menu_entry
    register_menu_entry(label=_("Exam rooms"), url_name="proctor-sittings", capability=C.PROCTOR)

A unit entry is shown only to users who hold its capability at the unit being shown, so a
proctor finds the exam rooms and an administrator the preparation pages without knowing a URL,
and nobody is offered a page that would answer 404; an entry without a capability (the unit's
overview) is shown to everyone who sees the unit. Entries that belong to no school unit (the
organiser administrator's transfers, the platform operator's test definitions) are registered
with `register_platform_entry` and a test of the user. Schools never imports the apps that
register here. The main menu (templates/base.html) holds these entries and, besides them, only
the link to the unit picker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse

if TYPE_CHECKING:
    from schools.models import AnyUser


@dataclass(frozen=True)
class MenuEntry:
    label: object  # a lazy translation
    url_name: str
    capability: str | None  # None: anyone who sees the unit
    takes_unit: bool = True
    order: int = 50

    def url_for(self, unit) -> str:
        return reverse(self.url_name, args=[unit.public_id] if self.takes_unit else [])


@dataclass(frozen=True)
class PlatformEntry:
    label: object
    url_name: str
    allowed: Callable[[object], bool]  # the user -> may open the page
    order: int = 50


_entries: list[MenuEntry] = []
_platform_entries: list[PlatformEntry] = []


def register_menu_entry(
    *, label, url_name: str, capability: str | None, takes_unit: bool = True, order: int = 50
) -> None:
    if any(e.url_name == url_name for e in _entries):
        return
    capability = None if capability is None else str(capability)
    _entries.append(MenuEntry(label, url_name, capability, takes_unit, order))
    _entries.sort(key=lambda e: e.order)


def register_platform_entry(
    *, label, url_name: str, allowed: Callable[[object], bool], order: int = 50
) -> None:
    if any(e.url_name == url_name for e in _platform_entries):
        return
    _platform_entries.append(PlatformEntry(label, url_name, allowed, order))
    _platform_entries.sort(key=lambda e: e.order)


def menu_for(unit, capabilities: frozenset[str]) -> list[dict]:
    """[{"label", "url"}] for the entries the capabilities allow, in order."""
    return [
        {"label": entry.label, "url": entry.url_for(unit)}
        for entry in _entries
        if entry.capability is None or entry.capability in capabilities
    ]


def platform_menu_for(user: AnyUser) -> list[dict]:
    """[{"label", "url"}] for the entries outside any school unit that `user` may open."""
    return [
        {"label": entry.label, "url": reverse(entry.url_name)}
        for entry in _platform_entries
        if entry.allowed(user)
    ]


def landing_url_for(user: AnyUser) -> str | None:
    """Where a user without any school unit lands: their first platform page, if any."""
    entries = platform_menu_for(user)
    return entries[0]["url"] if entries else None
