import pytest
import time_machine
from django.urls import reverse

from delivery import attempts, events, student_auth
from delivery.models import Attempt, AttemptStatus, LoginCode, Notice, NoticeKind
from exams.models import DayPassword
from schools.roles import Role
from tests.delivery.attempt_helpers import DAY_PASSWORD, local_at, make_sitting

GENERIC = "The login details or the day password are not right"


@pytest.fixture
def ten_o_clock():
    with time_machine.travel(local_at(10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def sitting(world, ten_o_clock):
    return make_sitting(world)


@pytest.fixture
def credential(sitting, world):
    cred, secret = student_auth.credential_issue(person=world.students_a[0])
    return cred, secret


def _login(client, **data):
    return client.post(reverse("student-login"), data)


def test_student_logs_in_with_username_password_and_day_password(client, credential, sitting):
    cred, secret = credential
    response = _login(client, username=cred.username, password=secret, day_password=DAY_PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("student-wait")
    attempt = Attempt.objects.get(sitting=sitting, person=cred.person)
    assert attempt.status == AttemptStatus.WAITING and attempt.device_token


@pytest.mark.parametrize(
    "change",
    ["wrong_password", "unknown_user", "wrong_day_password", "no_day_password"],
)
def test_every_login_error_gets_the_same_generic_message(client, credential, change):
    cred, secret = credential
    data = {"username": cred.username, "password": secret, "day_password": DAY_PASSWORD}
    if change == "wrong_password":
        data["password"] = "0" + secret[1:]  # "0" is never in a secret
    elif change == "unknown_user":
        data["username"] = "nobody"
    elif change == "wrong_day_password":
        data["day_password"] = "FELFEL22"
    else:
        data["day_password"] = ""
    response = _login(client, **data)
    assert response.status_code == 401
    assert GENERIC in response.content.decode()


def test_day_password_of_another_day_is_refused(client, credential, sitting):
    cred, secret = credential
    DayPassword.objects.filter(school_unit=sitting.school_unit).update(
        date=local_at(9, days=-1).date()
    )
    DayPassword.objects.create(
        school_unit=sitting.school_unit, date=local_at(9).date(), password="NU7DAGEN"
    )
    response = _login(client, username=cred.username, password=secret, day_password=DAY_PASSWORD)
    assert response.status_code == 401


def test_day_password_of_another_unit_is_refused(client, credential, sitting, world):
    cred, secret = credential
    DayPassword.objects.create(
        school_unit=world.sibling_unit, date=local_at(9).date(), password="ANNAN2SK"
    )
    response = _login(client, username=cred.username, password=secret, day_password="ANNAN2SK")
    assert response.status_code == 401


def test_throttle_is_per_account_not_per_address(client, credential, sitting, world, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    cred, secret = credential
    other, other_secret = student_auth.credential_issue(person=world.students_a[1])
    for _ in range(3):
        _login(client, username=cred.username, password="wrong", day_password=DAY_PASSWORD)
    # The locked account stays locked even with the right password...
    locked = _login(client, username=cred.username, password=secret, day_password=DAY_PASSWORD)
    assert locked.status_code == 401 and GENERIC in locked.content.decode()
    # ...while a classmate behind the same address logs in.
    ok = _login(client, username=other.username, password=other_secret, day_password=DAY_PASSWORD)
    assert ok.status_code == 302


def test_login_code_works_once(client, sitting, world):
    slips = student_auth.login_slips_issue(actor=world.staff[Role.PROCTOR], sitting=sitting)
    code = slips[0].code
    assert _login(client, code=code.lower(), day_password=DAY_PASSWORD).status_code == 302
    client.logout()
    assert _login(client, code=code, day_password=DAY_PASSWORD).status_code == 401


def test_login_code_with_wrong_day_password_is_not_used_up(client, sitting, world):
    slips = student_auth.login_slips_issue(actor=world.staff[Role.PROCTOR], sitting=sitting)
    assert _login(client, code=slips[0].code, day_password="fel").status_code == 401
    assert LoginCode.objects.filter(used_at__isnull=True).count() == len(slips)


def test_secrets_are_stored_only_as_keyed_hashes(credential):
    cred, secret = credential
    assert secret not in cred.secret_digest
    assert cred.secret_digest == student_auth.secret_digest(salt=cred.salt, secret=secret)


def test_second_login_moves_the_attempt_and_tells_proctor_and_old_device(
    client, credential, sitting, world, monkeypatch
):
    sent = []
    monkeypatch.setattr(events, "send_on_commit", lambda g, e: sent.append((g, e)))
    cred, secret = credential
    first = client
    first_response = _login(
        first, username=cred.username, password=secret, day_password=DAY_PASSWORD
    )
    assert first_response.status_code == 302
    from django.test import Client

    second = Client()
    _login(second, username=cred.username, password=secret, day_password=DAY_PASSWORD)
    attempt = Attempt.objects.get(sitting=sitting, person=cred.person)
    notice = Notice.objects.get(kind=NoticeKind.DEVICE_SWITCHED)
    assert notice.person == cred.person and notice.sitting == sitting
    groups = {(g, e["type"]) for g, e in sent}
    assert (f"attempt.{attempt.public_id}", "device.replaced") in groups
    assert (f"sitting.{sitting.public_id}", "notice") in groups
    # The old device is told on its next page load...
    old = first.get(reverse("student-wait"))
    assert old.status_code == 409 and "another device" in old.content.decode()
    # ...and the new one carries on.
    assert second.get(reverse("student-wait")).status_code == 200


def test_waiting_student_goes_to_the_test_once_released(client, credential, sitting, world):
    cred, secret = credential
    _login(client, username=cred.username, password=secret, day_password=DAY_PASSWORD)
    assert client.get(reverse("student-state")).json()["released"] is False
    attempts.attempt_release(actor=world.staff[Role.PROCTOR], sitting=sitting)
    assert client.get(reverse("student-state")).json()["released"] is True
    page = client.get(reverse("student-test"))
    assert page.status_code == 200
    html = page.content.decode()
    for kind in ("radio", "checkbox", 'inputmode="decimal"', "<textarea"):
        assert kind in html
    assert 'role="timer"' in html and 'aria-live="polite"' in html


def test_login_slips_page_only_for_the_units_proctors(client, sitting, world):
    url = reverse("sitting-login-slips", args=[sitting.public_id])
    client.force_login(world.sibling_head)
    assert client.post(url).status_code == 404
    client.force_login(world.staff[Role.OTHER_STAFF])
    assert client.post(url).status_code == 404
    client.force_login(world.staff[Role.PROCTOR])
    response = client.post(url)
    assert response.status_code == 200
    assert LoginCode.objects.filter(sitting=sitting).count() == len(world.students_a)


def test_login_gives_a_new_session_key_and_removes_the_old_session(client, credential):
    # given a browser that already holds a session (e.g. a planted one: session fixation)
    from django.contrib.sessions.models import Session

    session = client.session
    session["planted"] = "kept"
    session.save()
    old_key = session.session_key
    cred, secret = credential
    # when the student logs in
    response = _login(client, username=cred.username, password=secret, day_password=DAY_PASSWORD)
    # then the session has a new key, the old one is gone, and what it held is kept
    assert response.status_code == 302
    new_key = client.cookies["sessionid"].value
    assert new_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()
    assert client.session["planted"] == "kept" and client.session["student"]["device"]


def test_login_takes_a_fixed_number_of_queries(client, credential, sitting, world):
    """The burst path: no query per sitting, notice or classmate; the session written once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cred, secret = credential
    data = {"username": cred.username, "password": secret, "day_password": DAY_PASSWORD}
    with CaptureQueriesContext(connection) as first:
        assert _login(client, **data).status_code == 302
    markers = ("SAVEPOINT", "RELEASE")
    statements = [q["sql"] for q in first.captured_queries if not q["sql"].startswith(markers)]
    # credential, today's sitting, day password, attempt (locked, created, locked again),
    # attempt update, session key check, session insert
    assert len(statements) <= 9, statements
    assert sum("django_session" in s for s in statements) == 2


def test_login_does_not_count_as_a_device_switch_for_a_fresh_attempt(client, credential, sitting):
    cred, secret = credential
    _login(client, username=cred.username, password=secret, day_password=DAY_PASSWORD)
    assert not Notice.objects.filter(kind=NoticeKind.DEVICE_SWITCHED).exists()
    assert Attempt.objects.filter(sitting=sitting, person=cred.person).count() == 1


def test_reopened_test_tells_the_student_and_the_done_page_listens_for_it(
    client, credential, sitting, world
):
    from tests.delivery.attempt_helpers import proctor

    cred, secret = credential
    _login(client, username=cred.username, password=secret, day_password=DAY_PASSWORD)
    attempts.attempt_release(actor=proctor(world), sitting=sitting)
    client.get(reverse("student-test"))
    attempt = Attempt.objects.get(sitting=sitting, person=cred.person)
    client.post(reverse("student-submit"))
    done = client.get(reverse("student-done")).content.decode()
    assert f'data-presence-attempt="{attempt.public_id}"' in done
    attempts.attempt_reopen(actor=proctor(world), attempt=attempt, reason="Wrong click")
    page = client.get(reverse("student-test") + "?reopened=1").content.decode()
    assert 'id="exam-reopened"' in page
    assert 'id="exam-reopened"' not in client.get(reverse("student-test")).content.decode()
