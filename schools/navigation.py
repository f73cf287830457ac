"""Entries in a school unit's main menu. Higher layers add theirs from AppConfig.ready():

    from schools.navigation import register_menu_entry
    register_menu_entry(label=_("Exam rooms"), url_name="proctor-sittings", capability=C.PROCTOR)

The menu shows an entry only to users who hold its capability at the unit being shown, so a
proctor finds the exam rooms and an administrator the preparation pages without knowing a URL.
Schools never imports the apps that register here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class MenuEntry:
    label: object  # a lazy translation
    url_name: str
    capability: str
    takes_unit: bool = True
    order: int = 50

    def url_for(self, unit) -> str:
        return reverse(self.url_name, args=[unit.public_id] if self.takes_unit else [])


_entries: list[MenuEntry] = []


def register_menu_entry(
    *, label, url_name: str, capability: str, takes_unit: bool = True, order: int = 50
) -> None:
    if any(e.url_name == url_name for e in _entries):
        return
    _entries.append(MenuEntry(label, url_name, str(capability), takes_unit, order))
    _entries.sort(key=lambda e: e.order)


def menu_for(unit, capabilities: frozenset[str]) -> list[dict]:
    """[{"label", "url"}] for the entries the capabilities allow, in order."""
    return [
        {"label": entry.label, "url": entry.url_for(unit)}
        for entry in _entries
        if entry.capability in capabilities
    ]
