"""The page showing the day password a unit's students sign in to a sitting with."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.http import HttpResponse

from exams import day_passwords
from exams.forms import parse_date
from exams.views.base import render_page
from schools.pages import AuthenticatedRequest, unit_page
from schools.roles import Capability

if TYPE_CHECKING:
    from schools.models import SchoolUnit


@unit_page(Capability.VIEW_DAY_PASSWORD)
def day_password(request: AuthenticatedRequest, school_unit: SchoolUnit) -> HttpResponse:
    today = day_passwords.unit_today(school_unit)
    day = parse_date(request.GET.get("date")) or today
    if day < today:
        day = today
    record = day_passwords.day_password_for(school_unit=school_unit, date=day)
    return render_page(
        request,
        "exams/day_password.html",
        {
            "unit": school_unit,
            "date": day,
            "today": today,
            "password": day_passwords.display(record.password),
            "next_day": day + datetime.timedelta(days=1),
        },
    )
