"""A student locked out after too many failed logins: audited, shown in the room, unlockable."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from delivery import student_auth
from delivery.models import Attempt, StudentCredential
from provplattform.errors import NotFound
from provplattform.models import AuditEvent
from schools.roles import Role
from schools.services import role_assign
from tests.delivery.attempt_helpers import DAY_PASSWORD, local_at, make_sitting
from tests.delivery.presence_helpers import store  # noqa: F401
from tests.factories import staff_member


@pytest.fixture
def locked(world, settings, store):  # noqa: F811
    """A sitting whose first student has locked her login: (sitting, credential, secret)."""
    settings.LOGIN_FAILURE_LIMIT = 3
    with time_machine.travel(local_at(10), tick=False):
        sitting = make_sitting(world)
        credential, secret = student_auth.credential_issue(person=world.students_a[0])
        student = Client()
        for _ in range(3):
            student.post(
                reverse("student-login"),
                {
                    "username": credential.username,
                    "password": "wrong",
                    "day_password": DAY_PASSWORD,
                },
            )
        yield sitting, credential, secret


def _login(credential, secret):
    return Client().post(
        reverse("student-login"),
        {"username": credential.username, "password": secret, "day_password": DAY_PASSWORD},
    )


def test_a_lockout_is_audited_for_the_students_unit(world, locked):
    _sitting, credential, _secret = locked
    event = AuditEvent.objects.get(action="student_login.locked")
    assert event.target_id == str(credential.public_id)
    assert event.scope == world.unit.public_id
    assert event.after["locked_until"]


def test_the_sittings_proctor_sees_the_lock_and_unlocks_it(world, locked, client):
    sitting, credential, secret = locked
    with time_machine.travel(local_at(10, 5), tick=False):
        assert _login(credential, secret).status_code == 401  # locked, right password or not
        client.force_login(world.staff[Role.PROCTOR])
        page = client.get(reverse("proctor-room", args=[sitting.public_id]))
        row = next(r for r in page.context["rows"] if r["name"] == credential.person.full_name)
        assert row["locked"] and "unlock" in row["actions"]
        attempt = Attempt.objects.get(sitting=sitting, person=credential.person)
        url = reverse("proctor-action", args=[sitting.public_id, "unlock"])
        # when
        response = client.post(url, {"attempt": str(attempt.public_id)})
        # then
        assert response.status_code == 200
        assert StudentCredential.objects.get(pk=credential.pk).locked_until is None
        event = AuditEvent.objects.get(action="student_login.unlock")
        assert event.actor == world.staff[Role.PROCTOR] and event.before["locked_until"]
        assert _login(credential, secret).status_code == 302
        # nothing left to unlock
        again = client.post(url, {"attempt": str(attempt.public_id)})
        assert again.status_code == 409 and again.json()["code"] == "not_locked"


def test_a_test_administrator_may_unlock(world, locked, client):
    sitting, credential, _secret = locked
    with time_machine.travel(local_at(10, 5), tick=False):
        client.force_login(world.staff[Role.TEST_ADMINISTRATOR])
        student_auth.student_login_unlock(
            actor=world.staff[Role.TEST_ADMINISTRATOR], sitting=sitting, person=credential.person
        )
    assert StudentCredential.objects.get(pk=credential.pk).locked_until is None


def test_a_proctor_not_named_for_the_sitting_and_other_units_may_not_unlock(world, locked, client):
    sitting, credential, _secret = locked
    other_proctor = staff_member(world.unit)
    role_assign(actor=None, person=other_proctor.person, school_unit=world.unit, role=Role.PROCTOR)
    url = reverse("proctor-action", args=[sitting.public_id, "unlock"])
    with time_machine.travel(local_at(10, 5), tick=False):
        client.force_login(other_proctor)
        page = client.get(reverse("proctor-room", args=[sitting.public_id]))
        attempt = Attempt.objects.get(sitting=sitting, person=credential.person)
        row = next(r for r in page.context["rows"] if r["name"] == credential.person.full_name)
        assert row["locked"] and "unlock" not in row["actions"]
        assert client.post(url, {"attempt": str(attempt.public_id)}).status_code == 404
        for user in (world.sibling_head, world.outsider):
            client.force_login(user)
            assert client.post(url, {"attempt": str(attempt.public_id)}).status_code == 404
    assert StudentCredential.objects.get(pk=credential.pk).locked_until is not None
    assert not AuditEvent.objects.filter(action="student_login.unlock").exists()


def test_a_student_not_placed_in_the_sitting_is_not_unlocked_there(world, locked):
    sitting, _credential, _secret = locked
    elsewhere, _ = student_auth.credential_issue(person=world.students_b[0])
    StudentCredential.objects.filter(pk=elsewhere.pk).update(
        locked_until=local_at(12), failed_logins=3
    )
    with time_machine.travel(local_at(10, 5), tick=False), pytest.raises(NotFound):
        student_auth.student_login_unlock(
            actor=world.staff[Role.TEST_ADMINISTRATOR], sitting=sitting, person=elsewhere.person
        )
    assert StudentCredential.objects.get(pk=elsewhere.pk).locked_until is not None
    assert not AuditEvent.objects.filter(action="student_login.unlock").exists()
