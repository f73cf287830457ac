"""The demo seed prepares a live sitting today and is idempotent."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine

from exams.day_passwords import day_password_check
from exams.demo import seed_exams
from exams.models import Adjustment, Assignment, DayPassword, Exemption, Room, Sitting
from exams.readiness import unit_readiness
from schools.demo import seed_schools

pytestmark = pytest.mark.django_db

MORNING = datetime.datetime(2027, 3, 16, 10, 7, tzinfo=zoneinfo.ZoneInfo("Europe/Stockholm"))


@time_machine.travel(MORNING, tick=False)
def test_seed_exams_prepares_todays_sittings_and_is_idempotent():
    ctx = seed_schools({})
    result = seed_exams(ctx)
    counts = [
        Room.objects.count(),
        Assignment.objects.count(),
        Sitting.objects.count(),
        DayPassword.objects.count(),
        Adjustment.objects.count(),
        Exemption.objects.count(),
    ]
    assert Sitting.objects.count() == 3
    for sitting in Sitting.objects.all():
        local = sitting.starts_at.astimezone(zoneinfo.ZoneInfo("Europe/Stockholm"))
        assert local.date() == MORNING.date()
        assert sitting.subtest.opens_at <= local.time() <= sitting.subtest.closes_at
        assert sitting.placements.exists()
        assert sitting.proctorships.filter(is_backup=False).exists()
        assert sitting.proctorships.filter(is_backup=True).exists()
    # extended time for one student, text to speech and read aloud for another
    adjustments = Adjustment.objects.filter(school_unit=ctx["units"]["demo-unit-ek"])
    assert adjustments.count() == 2
    assert adjustments.filter(tools=["text_to_speech"], other_kinds=["read_aloud"]).exists()
    assert Exemption.objects.count() == 1
    ek = ctx["units"]["demo-unit-ek"]
    password = DayPassword.objects.get(school_unit=ek).password
    assert day_password_check(school_unit=ek, value=password)
    assert unit_readiness(school_unit=ek)
    assert result["day_password_logins"]

    seed_exams(ctx)
    assert counts == [
        Room.objects.count(),
        Assignment.objects.count(),
        Sitting.objects.count(),
        DayPassword.objects.count(),
        Adjustment.objects.count(),
        Exemption.objects.count(),
    ]
