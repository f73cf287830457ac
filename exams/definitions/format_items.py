"""One item of the definition format: its mapping checked and normalised (`parse_item`), and a
stored item turned back into that mapping (`item_raw`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from exams.definitions.content import AUDIO_EXTENSIONS, audio_sources, image_sources
from exams.definitions.format_values import parse_int, parse_number, parse_text
from exams.definitions.problems import Problems
from exams.models import ItemKind

CHOICE_KINDS = {ItemKind.SINGLE_CHOICE, ItemKind.MULTIPLE_CHOICE}
MAX_ITEM_POINTS = 100


def parse_item(raw: dict, path: str, asset_paths: set[str], problems: list) -> dict:
    """Normalise and check one item mapping (also used by the item edit service)."""
    problems = problems if isinstance(problems, Problems) else Problems(problems)
    kind = str(raw.get("kind") or "")
    item: dict[str, Any] = {
        "identifier": parse_text(raw, "id", f"{path}.", problems),
        "kind": kind,
        "html": str(raw.get("html") or ""),
        "choices": [],
        "answer_key": [],
        "scoring_criteria": str(raw.get("criteria") or ""),
    }
    if kind not in ItemKind.values:
        problems.add(f"{path}.kind", _("Use one of: %s.") % ", ".join(ItemKind.values))
    points = parse_int(raw.get("points", 1), f"{path}.points", problems, minimum=1)
    if points is not None and points > MAX_ITEM_POINTS:
        problems.add(f"{path}.points", _("At most %s points per item.") % MAX_ITEM_POINTS)
        points = None
    item["max_points"] = points or 1
    if not item["html"].strip():
        problems.add(f"{path}.html", _("Required."))
    for src in image_sources(item["html"]):
        if src not in asset_paths:
            problems.add(f"{path}.html", _('Image "%s" is not one of the test\'s assets.') % src)
    sounds = audio_sources(item["html"])
    for src in sounds:
        if src not in asset_paths:
            problems.add(f"{path}.html", _('Sound "%s" is not one of the test\'s assets.') % src)
        elif not src.startswith("/assets/") and Path(src).suffix.lower() not in AUDIO_EXTENSIONS:
            problems.add(
                f"{path}.html",
                _('Sound "%(src)s": use %(types)s.')
                % {"src": src, "types": ", ".join(sorted(AUDIO_EXTENSIONS))},
            )
    item["audio_plays"] = parse_int(
        raw.get("audio_plays"), f"{path}.audio_plays", problems, minimum=1
    )
    if item["audio_plays"] is not None and not sounds:
        problems.add(f"{path}.audio_plays", _("Only an item with a sound has a play limit."))
    if kind in CHOICE_KINDS:
        choices = raw.get("choices")
        ids: list[str] = []
        if not isinstance(choices, list) or len(choices) < 2:
            problems.add(f"{path}.choices", _("Give at least two choices."))
            choices = []
        for index, choice in enumerate(choices):
            if not isinstance(choice, dict) or not str(choice.get("id") or "").strip():
                problems.add(f"{path}.choices[{index}]", _("Give an id and html."))
                continue
            choice_id = str(choice["id"]).strip()
            if choice_id in ids:
                problems.add(f"{path}.choices[{index}].id", _('Id "%s" is used twice.') % choice_id)
            ids.append(choice_id)
            item["choices"].append({"id": choice_id, "html": str(choice.get("html") or "")})
        correct = raw.get("correct")
        if isinstance(correct, str | int):
            correct = [correct]
        if not isinstance(correct, list) or not correct:
            problems.add(f"{path}.correct", _("Give the id of the correct choice."))
            correct = []
        correct = [str(c) for c in correct]
        for value in correct:
            if ids and value not in ids:
                problems.add(
                    f"{path}.correct",
                    _('"%(value)s" is not one of the choices (%(ids)s).')
                    % {"value": value, "ids": ", ".join(ids)},
                )
        if kind == ItemKind.SINGLE_CHOICE and len(correct) > 1:
            problems.add(
                f"{path}.correct", _("A single-choice item has exactly one correct choice.")
            )
        item["answer_key"] = correct
    elif kind == ItemKind.TEXT_ENTRY:
        accepted = raw.get("accepted")
        if isinstance(accepted, str | int | float) and not isinstance(accepted, bool):
            accepted = [accepted]
        if not isinstance(accepted, list) or not [a for a in accepted if str(a).strip()]:
            problems.add(f"{path}.accepted", _("Give at least one accepted answer."))
            accepted = []
        item["answer_key"] = [str(a).strip() for a in accepted if str(a).strip()]
    elif kind == ItemKind.NUMERIC:
        value = parse_number(raw.get("value"))
        tolerance = parse_number(raw.get("tolerance", 0))
        if value is None:
            problems.add(f"{path}.value", _("Give the correct value as a number."))
        if tolerance is None or tolerance < 0:
            problems.add(f"{path}.tolerance", _("Give the tolerance as a number ≥ 0."))
            tolerance = 0.0
        item["answer_key"] = {"value": value, "tolerance": tolerance}
    elif kind == ItemKind.EXTENDED_TEXT and (raw.get("correct") or raw.get("accepted")):
        problems.add(f"{path}", _("An extended-text item is assessed by a person; no key."))
    return item


def item_raw(item) -> dict:
    """A stored item as the item mapping of the definition format."""
    raw: dict[str, Any] = {
        "id": item.identifier,
        "kind": item.kind,
        "points": item.max_points,
        "html": item.content_html,
        "criteria": item.scoring_criteria,
    }
    if item.audio_plays:
        raw["audio_plays"] = item.audio_plays
    if item.kind in CHOICE_KINDS:
        raw["choices"] = item.choices
        raw["correct"] = item.answer_key
    elif item.kind == ItemKind.TEXT_ENTRY:
        raw["accepted"] = item.answer_key
    elif item.kind == ItemKind.NUMERIC and isinstance(item.answer_key, dict):
        raw["value"] = item.answer_key.get("value")
        raw["tolerance"] = item.answer_key.get("tolerance", 0)
    return raw
