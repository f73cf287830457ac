"""Swedish personnummer / samordningsnummer and Norwegian fødselsnummer / D-nummer.

Civic numbers are personal data of the most sensitive kind: never put one in a URL, a log line or
a list response. Use `mask_civic_number` wherever a role does not need the whole number.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_SE_PATTERN = re.compile(r"^(\d{2})?(\d{2})(\d{2})(\d{2})[-+]?(\d{4})$")
_NO_PATTERN = re.compile(r"^\d{11}$")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def organisation_number_ok(number: str, *, norwegian: bool) -> bool:
    """Swedish organisationsnummer: 10 digits, Luhn. Norwegian organisasjonsnummer: 9, mod 11."""
    if norwegian:
        if not re.fullmatch(r"\d{9}", number):
            return False
        weighted = sum(
            int(d) * w for d, w in zip(number[:8], (3, 2, 7, 6, 5, 4, 3, 2), strict=True)
        )
        check = (11 - weighted % 11) % 11
        return check != 10 and check == int(number[8])
    return bool(re.fullmatch(r"\d{10}", number)) and _luhn_ok(number)


def normalise_swedish(value: str) -> str | None:
    """The 12-digit form (YYYYMMDDNNNN) of a valid personnummer or samordningsnummer, else None."""
    match = _SE_PATTERN.match(value.strip().replace(" ", ""))
    if not match:
        return None
    century, year, month, day, tail = match.groups()
    ten = f"{year}{month}{day}{tail}"
    if not _luhn_ok(ten):
        return None
    real_day = int(day) - 60 if int(day) > 60 else int(day)  # samordningsnummer adds 60
    if century is None:
        today = timezone.localdate()
        century_int = today.year // 100
        if int(year) > today.year % 100:
            century_int -= 1
        if "+" in value:  # hundred years or older
            century_int -= 1
        century = str(century_int)
    try:
        datetime.date(int(century + year), int(month), real_day)
    except ValueError:
        return None
    return f"{century}{ten}"


def normalise_norwegian(value: str) -> str | None:
    """Return the 11 digits of a valid fødselsnummer/D-nummer, else None."""
    digits = value.strip().replace(" ", "")
    if not _NO_PATTERN.match(digits):
        return None
    numbers = [int(c) for c in digits]
    weights_1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
    weights_2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    k1 = 11 - sum(w * n for w, n in zip(weights_1, numbers[:9], strict=True)) % 11
    k1 = 0 if k1 == 11 else k1
    k2 = 11 - sum(w * n for w, n in zip(weights_2, numbers[:10], strict=True)) % 11
    k2 = 0 if k2 == 11 else k2
    if k1 == 10 or k2 == 10 or k1 != numbers[9] or k2 != numbers[10]:
        return None
    day, month = int(digits[0:2]), int(digits[2:4])
    if day > 40:  # D-nummer adds 40 to the day
        day -= 40
    if month > 40:  # synthetic test numbers from the Norwegian registry add 40 to the month
        month -= 40
    try:
        datetime.date(2000, month, day) if not (month == 2 and day == 29) else None
    except ValueError:
        return None
    return digits


def normalise_civic_number(value: str) -> str:
    """Normalise a Swedish or Norwegian civic number, raising ValidationError when neither fits."""
    result = normalise_swedish(value) or normalise_norwegian(value)
    if result is None:
        raise ValidationError(
            _("Not a valid personal identity number (check digit or date is wrong)."),
            code="invalid_civic_number",
        )
    return result


def validate_civic_number(value: str) -> None:
    normalise_civic_number(value)


def mask_civic_number(value: str) -> str:
    """Keep the birth date, hide the last four: 20120315-****."""
    if not value:
        return ""
    if len(value) == 12:
        return f"{value[:8]}-****"
    if len(value) == 11:
        return f"{value[:6]}*****"
    return "****"
