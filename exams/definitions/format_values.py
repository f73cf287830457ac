"""The values of the definition format: dates (absolute or relative to today), times, numbers,
text, windows, choices from a fixed list and language tags. Each parser adds a Problem naming
the path when a value is wrong."""

from __future__ import annotations

import datetime
import re
from enum import Enum
from typing import Any

from django.utils.translation import gettext as _

from exams.definitions.problems import Problems

_RELATIVE = re.compile(r"^(today)?\s*([+-])\s*(\d+)\s*d$|^today$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # a BCP 47 tag such as sv, nb, en-GB


def parse_date(value: Any, today: datetime.date) -> datetime.date:
    """An ISO date, or a date relative to today: "today", "+14d", "-3d"."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    match = _RELATIVE.match(text)
    if match:
        if text == "today":
            return today
        days = int(match.group(3))
        return today + datetime.timedelta(days=days if match.group(2) == "+" else -days)
    return datetime.date.fromisoformat(text)


def parse_time(value: Any) -> datetime.time:
    if isinstance(value, datetime.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 08:00 as sexagesimal minutes (480).
        return datetime.time(*divmod(value, 60))
    return datetime.time.fromisoformat(str(value).strip())


def parse_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return None


def parse_int(value: Any, path: str, problems: Problems, *, minimum: int = 0) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        problems.add(path, _("Must be a whole number."))
        return None
    try:
        number = int(value)
    except ValueError:
        problems.add(path, _("Must be a whole number."))
        return None
    if number < minimum:
        problems.add(path, _("Must be at least %(minimum)s.") % {"minimum": minimum})
        return None
    return number


def parse_text(data: dict, key: str, path: str, problems: Problems, *, required=True) -> str:
    value = data.get(key)
    if value is None or str(value).strip() == "":
        if required:
            problems.add(f"{path}{key}", _("Required."))
        return ""
    return str(value).strip()


def parse_window(value: Any, path: str, today, problems: Problems) -> tuple:
    if value in (None, ""):
        return None, None
    if not isinstance(value, dict):
        problems.add(path, _("Give start and end, e.g. {start: 2027-03-13, end: 2027-04-07}."))
        return None, None
    result: list[datetime.date | None] = []
    for key in ("start", "end"):
        raw = value.get(key)
        if raw in (None, ""):
            problems.add(f"{path}.{key}", _("Required."))
            result.append(None)
            continue
        try:
            result.append(parse_date(raw, today))
        except ValueError:
            problems.add(
                f"{path}.{key}",
                _('"%s" is not a date (use 2027-03-13, "today" or "+14d").') % raw,
            )
            result.append(None)
    start, end = result
    if start and end and end < start:
        problems.add(
            path,
            _("The end (%(end)s) is before the start (%(start)s).") % {"end": end, "start": start},
        )
    return start, end


def parse_choices(value: Any, allowed: type[Enum], path: str, problems: Problems) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        problems.add(path, _("Must be a list."))
        return []
    known = {c.value for c in allowed}
    result = []
    for index, entry in enumerate(value):
        if str(entry) not in known:
            problems.add(
                f"{path}[{index}]",
                _('"%(value)s" is unknown; use one of: %(known)s.')
                % {"value": entry, "known": ", ".join(sorted(known))},
            )
        else:
            result.append(str(entry))
    return result


def parse_lang(value: Any, path: str, problems: Problems) -> str:
    if value in (None, ""):
        return ""
    text = str(value).strip()
    if not _LANG.match(text):
        problems.add(path, _('"%s" is not a language tag (use sv, nb, nn, en…).') % text)
        return ""
    return text
