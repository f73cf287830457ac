"""Row locks of the login and start path on PostgreSQL: only the attempt's own row is locked."""

import psycopg
import pytest
import time_machine
from django.conf import settings
from django.db import connection

from delivery import attempts, devices
from delivery.models import Attempt, AttemptStatus
from tests.delivery.attempt_helpers import local_at, make_sitting, proctor

pytestmark = [
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="row locks are PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]


def _other_connection() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )


def test_login_and_start_do_not_wait_for_a_lock_on_the_sitting(world):
    """300 students of one sitting must not queue behind each other's sitting-row lock."""
    with time_machine.travel(local_at(10), tick=False):
        sitting = make_sitting(world)
        attempts.attempt_release(actor=proctor(world), sitting=sitting)
        other = _other_connection()
        try:
            # given another transaction holding the sitting, its unit and a student row
            other.execute("SELECT 1 FROM exams_sitting WHERE id = %s FOR UPDATE", [sitting.pk])
            other.execute(
                "SELECT 1 FROM schools_schoolunit WHERE id = %s FOR UPDATE",
                [sitting.school_unit_id],
            )
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
            # when a student logs in and starts, then the attempt's own row is all they lock
            attempt, _token, _ = devices.attempt_login(sitting=sitting, person=world.students_a[0])
            attempt = attempts.attempt_start(attempt=attempt)
            assert attempt.status == AttemptStatus.WORKING
        finally:
            other.rollback()
            other.close()
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = 0")
    assert Attempt.objects.get(pk=attempt.pk).device_token
