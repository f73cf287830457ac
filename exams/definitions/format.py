"""The readable definition format (YAML or JSON) and the one validator of a test definition.

`parse_definition` turns the raw mapping of a file into a normalised spec (dates, times, numbers
as Python values) and a list of problems, each naming the path of the value at fault, e.g.
`subtests[1].items[0].correct: "E" is not one of the choices (A, B, C)`. The same validator
checks a stored test (`check_test`) before it is published or after an edit, so the rules live
in one place. Items are checked in format_items, single values in format_values, and problems
are reported as exams.definitions.problems describes. The format is described in
docs/test-definitions.md.
"""

from __future__ import annotations

import datetime
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from exams.definitions.format_items import item_raw, parse_item
from exams.definitions.format_values import (
    parse_choices,
    parse_int,
    parse_lang,
    parse_text,
    parse_time,
    parse_window,
)
from exams.definitions.problems import DefinitionInvalid, Problem, Problems
from exams.definitions.selectors import asset_urls
from exams.models import AdjustmentKind, Programme, TestDefinition, Tool

GRADES = ["E", "D", "C", "B", "A"]


# --- reading files --------------------------------------------------------------------------


def read_text(text: str, *, name: str = "") -> dict:
    """YAML (a superset of JSON) into a mapping; a syntax error becomes one Problem."""
    try:
        data = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise DefinitionInvalid(
            [Problem("", _("The file is not valid YAML/JSON: %s") % exc)]
        ) from exc
    if not isinstance(data, dict):
        raise DefinitionInvalid([Problem("", _("The file must hold one test (a mapping)."))])
    return data


def load_file(path: Path | str, *, today: datetime.date | None = None) -> tuple[dict, dict]:
    """Read and validate a definition file: (spec, assets {package path: bytes}).

    Asset files are named relative to the definition file. Raises DefinitionInvalid.
    """
    path = Path(path)
    data = read_text(path.read_text(encoding="utf-8"), name=path.name)
    assets: dict[str, bytes] = {}
    problems: list[Problem] = []
    base = path.parent.resolve()
    for key, relative in (data.get("assets") or {}).items():
        file = (base / str(relative)).resolve()
        if base not in file.parents or not file.is_file():
            problems.append(Problem(f"assets.{key}", _("File not found: %s") % relative))
            continue
        assets[str(key)] = file.read_bytes()
    declared = {str(key) for key in (data.get("assets") or {})}
    spec, more = parse_definition(data, today=today, asset_paths=declared)
    problems += more
    if problems:
        raise DefinitionInvalid(problems)
    return spec, assets


# --- the validator ----------------------------------------------------------------------------


def parse_definition(
    data: dict,
    *,
    today: datetime.date | None = None,
    asset_paths: set[str] | None = None,
) -> tuple[dict, list[Problem]]:
    """Normalise and check a definition mapping. Returns (spec, problems)."""
    today = today or timezone.localdate()
    asset_paths = set(asset_paths or ())
    problems = Problems()
    spec: dict[str, Any] = {}

    spec["title"] = parse_text(data, "title", "", problems)
    code = parse_text(data, "code", "", problems)
    if code and slugify(code) != code:
        problems.add("code", _("Use lower-case letters, digits and hyphens only."))
    spec["code"] = code
    programme = str(data.get("programme") or "")
    if programme not in Programme.values:
        problems.add(
            "programme",
            _("Use one of: %s.") % ", ".join(Programme.values),
        )
    spec["programme"] = programme
    spec["subject"] = parse_text(data, "subject", "", problems)
    grade = parse_int(data.get("grade"), "grade", problems, minimum=1)
    if grade is None and "grade" not in {p.path for p in problems}:
        problems.add("grade", _("Required."))
    spec["grade"] = grade
    spec["period"] = str(data.get("period") or "")
    spec["lang"] = parse_lang(data.get("lang"), "lang", problems)
    spec["mandatory"] = bool(data.get("mandatory", True))
    # Leaving it out takes the platform's ASSIGNMENT_OPENS_DAYS_BEFORE (README).
    spec["assignment_opens_days_before"] = parse_int(
        data.get("assignment_opens_days_before", settings.ASSIGNMENT_OPENS_DAYS_BEFORE),
        "assignment_opens_days_before",
        problems,
    )
    if "window" not in data:
        problems.add("window", _("Required."))
    spec["window_start"], spec["window_end"] = parse_window(
        data.get("window"), "window", today, problems
    )
    registration = data.get("registration")
    if registration not in (None, ""):
        if isinstance(registration, dict):
            registration = {"start": registration.get("opens"), "end": registration.get("closes")}
        opens, closes = parse_window(registration, "registration", today, problems)
    else:
        opens = closes = None
    spec["registration_opens"], spec["registration_closes"] = opens, closes
    if not spec["mandatory"] and opens is None:
        problems.add("registration", _("A voluntary test needs a registration window."))
    if closes and spec["window_end"] and closes > spec["window_end"]:
        problems.add("registration.closes", _("Registration must close by the end of the window."))

    boundaries_raw = data.get("grade_boundaries") or {}
    boundaries: dict[str, int] = {}
    if not isinstance(boundaries_raw, dict):
        problems.add("grade_boundaries", _("Give points per grade, e.g. {E: 20, C: 35, A: 50}."))
    else:
        for grade_letter, points in boundaries_raw.items():
            letter = str(grade_letter)
            if letter not in GRADES:
                problems.add(
                    f"grade_boundaries.{letter}",
                    _("Grades are E, D, C, B and A."),
                )
                continue
            value = parse_int(points, f"grade_boundaries.{letter}", problems)
            if value is not None:
                boundaries[letter] = value
        ordered = [(g, boundaries[g]) for g in GRADES if g in boundaries]
        for (low, low_points), (high, high_points) in pairwise(ordered):
            if high_points <= low_points:
                problems.add(
                    f"grade_boundaries.{high}",
                    _("%(high)s needs more points than %(low)s (%(points)s).")
                    % {"high": high, "low": low, "points": low_points},
                )
    spec["grade_boundaries"] = boundaries
    spec["concern_threshold"] = parse_int(
        data.get("concern_threshold"), "concern_threshold", problems
    )
    if boundaries and programme == Programme.NO_MAPPING:
        problems.add("grade_boundaries", _("Grade boundaries belong to the Swedish programme."))
    if spec["concern_threshold"] is not None and programme == Programme.SE_NATIONAL:
        problems.add(
            "concern_threshold", _("Concern thresholds belong to the Norwegian programme.")
        )

    subtests_raw = data.get("subtests")
    spec["subtests"] = []
    if not isinstance(subtests_raw, list) or not subtests_raw:
        problems.add("subtests", _("A test needs at least one subtest."))
        subtests_raw = []
    seen_codes: set[str] = set()
    for index, raw in enumerate(subtests_raw):
        path = f"subtests[{index}]"
        if not isinstance(raw, dict):
            problems.add(path, _("Must be a mapping."))
            continue
        subtest = _parse_subtest(raw, path, spec, today, asset_paths, problems)
        if subtest["code"] in seen_codes:
            problems.add(f"{path}.code", _('Code "%s" is used twice.') % subtest["code"])
        seen_codes.add(subtest["code"])
        spec["subtests"].append(subtest)

    total = sum(s["total_points"] for s in spec["subtests"])
    spec["total_points"] = total
    if spec["subtests"] and not any(p.path.startswith("subtests") for p in problems):
        for letter, points in boundaries.items():
            if points > total:
                problems.add(
                    f"grade_boundaries.{letter}",
                    _("%(points)s points is more than the test's maximum (%(total)s).")
                    % {"points": points, "total": total},
                )
        threshold = spec["concern_threshold"]
        if threshold is not None and threshold > total:
            problems.add(
                "concern_threshold",
                _("%(points)s points is more than the test's maximum (%(total)s).")
                % {"points": threshold, "total": total},
            )
    spec["grade_requirements"] = _grade_requirements(
        data.get("grade_requirements"), spec, boundaries, problems
    )
    spec["assets"] = sorted(asset_paths)
    return spec, list(problems)


def _dictionary(value: Any, path: str, tools: list[str], problems: Problems) -> list[dict]:
    """The dictionary tool's words: a mapping {term: definition} or a list of {term, definition}."""
    if value in (None, "", [], {}):
        return []
    if isinstance(value, dict):
        value = [{"term": k, "definition": v} for k, v in value.items()]
    if not isinstance(value, list):
        problems.add(path, _("Give the words as {term: definition}."))
        return []
    words = []
    for index, entry in enumerate(value):
        term = str((entry or {}).get("term") or "").strip() if isinstance(entry, dict) else ""
        meaning = str((entry or {}).get("definition") or "").strip() if term else ""
        if not term or not meaning:
            problems.add(f"{path}[{index}]", _("Give a term and its definition."))
            continue
        words.append({"term": term, "definition": meaning})
    if words and Tool.DICTIONARY not in tools:
        problems.add(
            path,
            _("A dictionary needs the dictionary tool in tools or permitted_tools."),
        )
    return words


def _grade_requirements(raw, spec, boundaries, problems: Problems) -> dict[str, dict[str, int]]:
    """Per-part requirements of the Swedish programme: {C: {B: 8}} means "C requires at least 8
    points in subtest B"; the requirement also holds for every grade above C."""
    if raw in (None, "", {}):
        return {}
    if not isinstance(raw, dict):
        problems.add(
            "grade_requirements", _("Give points per grade and subtest, e.g. {C: {B: 8}}.")
        )
        return {}
    if spec["programme"] != Programme.SE_NATIONAL:
        problems.add("grade_requirements", _("Grade requirements belong to the Swedish programme."))
        return {}
    totals = {s["code"]: s["total_points"] for s in spec["subtests"]}
    result: dict[str, dict[str, int]] = {}
    for letter, parts in raw.items():
        letter = str(letter)
        path = f"grade_requirements.{letter}"
        if letter not in GRADES:
            problems.add(path, _("Grades are E, D, C, B and A."))
            continue
        if letter not in boundaries:
            problems.add(path, _("%s has no grade boundary.") % letter)
            continue
        if not isinstance(parts, dict) or not parts:
            problems.add(path, _("Give points per subtest code, e.g. {B: 8}."))
            continue
        for code, points in parts.items():
            code = str(code)
            value = parse_int(points, f"{path}.{code}", problems)
            if code not in totals:
                problems.add(f"{path}.{code}", _('No subtest has the code "%s".') % code)
            elif value is not None and value > totals[code]:
                problems.add(
                    f"{path}.{code}",
                    _("%(points)s points is more than the subtest's maximum (%(total)s).")
                    % {"points": value, "total": totals[code]},
                )
            elif value is not None:
                result.setdefault(letter, {})[code] = value
    return result


def _minutes(opens: datetime.time, closes: datetime.time) -> int:
    return (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)


def _parse_subtest(raw, path, test_spec, today, asset_paths, problems: Problems) -> dict:
    subtest: dict[str, Any] = {
        "code": parse_text(raw, "code", f"{path}.", problems),
        "title": parse_text(raw, "title", f"{path}.", problems),
        "on_platform": bool(raw.get("on_platform", True)),
    }
    duration = parse_int(
        raw.get("duration_minutes", 45), f"{path}.duration_minutes", problems, minimum=1
    )
    subtest["duration_minutes"] = duration or 45
    hours = raw.get("opening_hours") or {}
    opens, closes = datetime.time(8, 0), datetime.time(17, 0)
    if not isinstance(hours, dict):
        problems.add(f"{path}.opening_hours", _('Give opens and closes, e.g. "08:00".'))
    else:
        try:
            opens = parse_time(hours.get("opens", opens))
        except (ValueError, TypeError):
            problems.add(f"{path}.opening_hours.opens", _('Use a time such as "08:00".'))
        try:
            closes = parse_time(hours.get("closes", closes))
        except (ValueError, TypeError):
            problems.add(f"{path}.opening_hours.closes", _('Use a time such as "17:00".'))
        if closes <= opens:
            problems.add(
                f"{path}.opening_hours",
                _("Closes (%(closes)s) must be after opens (%(opens)s).")
                % {"closes": closes.strftime("%H:%M"), "opens": opens.strftime("%H:%M")},
            )
        elif duration and _minutes(opens, closes) < duration:
            problems.add(
                f"{path}.duration_minutes",
                _("%(minutes)d minutes do not fit inside the opening hours (%(opens)s–%(closes)s).")
                % {
                    "minutes": duration,
                    "opens": opens.strftime("%H:%M"),
                    "closes": closes.strftime("%H:%M"),
                },
            )
    subtest["opens_at"], subtest["closes_at"] = opens, closes
    start, end = parse_window(raw.get("window"), f"{path}.window", today, problems)
    test_start, test_end = test_spec.get("window_start"), test_spec.get("window_end")
    if start and test_start and end and test_end and (start < test_start or end > test_end):
        problems.add(
            f"{path}.window",
            _("Must lie inside the test's window (%(start)s – %(end)s).")
            % {"start": test_start, "end": test_end},
        )
    subtest["window_start"], subtest["window_end"] = start, end
    subtest["tools"] = parse_choices(raw.get("tools"), Tool, f"{path}.tools", problems)
    subtest["permitted_adjustments"] = parse_choices(
        raw.get("permitted_adjustments"), AdjustmentKind, f"{path}.permitted_adjustments", problems
    )
    subtest["permitted_tools"] = parse_choices(
        raw.get("permitted_tools"), Tool, f"{path}.permitted_tools", problems
    )
    subtest["lang"] = parse_lang(raw.get("lang"), f"{path}.lang", problems)
    subtest["dictionary"] = _dictionary(
        raw.get("dictionary"),
        f"{path}.dictionary",
        subtest["tools"] + subtest["permitted_tools"],
        problems,
    )
    threshold = parse_int(raw.get("concern_threshold"), f"{path}.concern_threshold", problems)
    if threshold is not None and test_spec.get("programme") == Programme.SE_NATIONAL:
        problems.add(
            f"{path}.concern_threshold", _("Concern thresholds belong to the Norwegian programme.")
        )
    subtest["concern_threshold"] = threshold

    items_raw = raw.get("items") or []
    subtest["items"] = []
    subtest["max_points"] = None
    if subtest["on_platform"]:
        if raw.get("max_points") not in (None, ""):
            problems.add(
                f"{path}.max_points",
                _("Only a part outside the platform has max_points; items carry the points here."),
            )
        if not isinstance(items_raw, list) or not items_raw:
            problems.add(f"{path}.items", _("A subtest on the platform needs at least one item."))
            items_raw = []
        seen: set[str] = set()
        for index, item_raw in enumerate(items_raw):
            item_path = f"{path}.items[{index}]"
            if not isinstance(item_raw, dict):
                problems.add(item_path, _("Must be a mapping."))
                continue
            item = parse_item(item_raw, item_path, asset_paths, problems)
            if item["identifier"] in seen:
                problems.add(f"{item_path}.id", _('Id "%s" is used twice.') % item["identifier"])
            seen.add(item["identifier"])
            subtest["items"].append(item)
        total = sum(i["max_points"] for i in subtest["items"])
    else:
        if items_raw:
            problems.add(f"{path}.items", _("A part outside the platform has no items."))
        total = parse_int(raw.get("max_points"), f"{path}.max_points", problems, minimum=1)
        if total is None:
            problems.add(
                f"{path}.max_points",
                _("A part outside the platform needs max_points for the result entered later."),
            )
            total = 0
        subtest["max_points"] = total
    subtest["total_points"] = total
    if threshold is not None and total and threshold > total:
        problems.add(
            f"{path}.concern_threshold",
            _("%(points)s points is more than the subtest's maximum (%(total)s).")
            % {"points": threshold, "total": total},
        )
    return subtest


# --- stored tests -----------------------------------------------------------------------------


def raw_from_test(test: TestDefinition) -> dict:
    """A stored test as a definition mapping (used to validate it, and to export it)."""
    raw: dict[str, Any] = {
        "code": test.code,
        "title": test.title,
        "programme": test.programme,
        "subject": test.subject,
        "grade": test.grade,
        "period": test.period,
        "lang": test.lang,
        "mandatory": test.mandatory,
        "window": {"start": test.window_start, "end": test.window_end},
        "assignment_opens_days_before": test.assignment_opens_days_before,
        "grade_boundaries": test.grade_boundaries or {},
        "grade_requirements": test.grade_requirements or {},
        "concern_threshold": test.concern_threshold,
        "subtests": [],
    }
    if test.registration_opens or test.registration_closes:
        raw["registration"] = {
            "opens": test.registration_opens,
            "closes": test.registration_closes,
        }
    for subtest in test.subtests.order_by("position").prefetch_related("items"):
        entry: dict[str, Any] = {
            "code": subtest.code,
            "title": subtest.title,
            "on_platform": subtest.on_platform,
            "duration_minutes": subtest.duration_minutes,
            "opening_hours": {"opens": subtest.opens_at, "closes": subtest.closes_at},
            "tools": subtest.tools,
            "permitted_adjustments": subtest.permitted_adjustments,
            "permitted_tools": subtest.permitted_tools,
            "lang": subtest.lang,
            "dictionary": subtest.dictionary,
            "concern_threshold": subtest.concern_threshold,
            "items": [item_raw(i) for i in sorted(subtest.items.all(), key=lambda i: i.position)],
        }
        if subtest.window_start or subtest.window_end:
            entry["window"] = {
                "start": subtest.window_start or test.window_start,
                "end": subtest.window_end or test.window_end,
            }
        if not subtest.on_platform:
            entry["max_points"] = subtest.max_points
        raw["subtests"].append(entry)
    return raw


def check_test(test: TestDefinition) -> list[Problem]:
    """Problems of a stored test (its images point at its own assets, so those count)."""
    _spec, problems = parse_definition(raw_from_test(test), asset_paths=set(asset_urls(test)))
    return problems


def export_yaml(test: TestDefinition) -> str:
    raw = raw_from_test(test)

    def plain(value):
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, datetime.time):
            return value.strftime("%H:%M")
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return yaml.safe_dump(plain(raw), allow_unicode=True, sort_keys=False, width=100)
