"""Day passwords (dagspassord): one per school unit and day, read aloud by the proctor.

Eight characters from an alphabet without look-alikes (no 0/O, 1/l/I), shown in two groups of
four. 31 symbols ** 8 characters = 2 ** 39.6: comfortably above the 30 bits the rules ask for.
The password is valid only on its own date in the school unit's time zone.
"""

from __future__ import annotations

import datetime
import hmac
import math
import secrets
import zoneinfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from exams.models import DayPassword
from provplattform.audit import AuditAction, audit_record
from schools.models import SchoolUnit

# Upper case letters minus I, L, O; digits minus 0, 1. Checking is case-insensitive.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 8
ENTROPY_BITS = LENGTH * math.log2(len(ALPHABET))


def unit_zone(school_unit: SchoolUnit) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(school_unit.organiser.time_zone or "Europe/Stockholm")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Europe/Stockholm")


def unit_today(school_unit: SchoolUnit, now: datetime.datetime | None = None) -> datetime.date:
    return (now or timezone.now()).astimezone(unit_zone(school_unit)).date()


def generate() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(value: str) -> str:
    return "".join(value.split()).upper()


def display(password: str) -> str:
    """Two groups of four, easier to read aloud and to type."""
    return f"{password[:4]} {password[4:]}"


def day_password_for(*, school_unit: SchoolUnit, date: datetime.date) -> DayPassword:
    """The unit's password for `date`, created on first request.

    Invariant: at most one password per unit and date; a concurrent first request gets the same.
    """
    existing = DayPassword.objects.filter(school_unit=school_unit, date=date).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            created = DayPassword.objects.create(
                school_unit=school_unit, date=date, password=generate()
            )
            audit_record(
                actor=None,
                action=AuditAction.DAY_PASSWORD_CREATE,
                target=created,
                after={"date": date.isoformat()},
                scope=school_unit,
            )
            return created
    except IntegrityError:
        return DayPassword.objects.get(school_unit=school_unit, date=date)


def day_password_check(
    *, school_unit: SchoolUnit, value: str, now: datetime.datetime | None = None
) -> bool:
    """True if `value` is the unit's password for today (its time zone); spaces and case ignored."""
    today = unit_today(school_unit, now)
    stored = (
        DayPassword.objects.filter(school_unit=school_unit, date=today)
        .values_list("password", flat=True)
        .first()
    )
    given = normalise(value or "")
    if stored is None:
        # Compare anyway so a missing password costs the same time as a wrong one.
        hmac.compare_digest(given.encode(), generate().encode())
        return False
    return hmac.compare_digest(given.encode(), stored.encode())
