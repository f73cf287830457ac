import pytest
from django.test import override_settings
from django.urls import reverse

from schools.auth import LOGIN_REFUSED_MESSAGE
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/login/"


def _login(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_right_password_logs_in_and_rotates_the_session(client):
    # given
    UserFactory(username="anna")
    session = client.session
    session["seen_login_page"] = True
    session.save()
    before = session.session_key
    # when
    response = _login(client, "anna", PASSWORD)
    # then
    assert response.status_code == 302
    assert client.session.session_key != before
    assert client.session["seen_login_page"] is True
    assert client.get("/units/").status_code == 200


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_S=600)
def test_account_locks_after_the_limit_and_refuses_even_the_right_password(client):
    user = UserFactory(username="bertil")
    for _ in range(3):
        assert _login(client, "bertil", "wrong").status_code == 400
    user.refresh_from_db()
    assert user.locked_until is not None

    response = _login(client, "bertil", PASSWORD)

    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert str(LOGIN_REFUSED_MESSAGE) in response.content.decode()


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_S=600)
def test_fewer_failures_than_the_limit_do_not_lock(client):
    UserFactory(username="cecilia")
    for _ in range(2):
        _login(client, "cecilia", "wrong")
    assert _login(client, "cecilia", PASSWORD).status_code == 302


@override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_FAILURE_WINDOW_S=600)
def test_lock_expires_after_the_window(client, time_machine):
    user = UserFactory(username="david")
    time_machine.move_to("2025-03-01 08:00:00+01:00", tick=False)
    _login(client, "david", "wrong")
    _login(client, "david", "wrong")
    assert _login(client, "david", PASSWORD).status_code == 400

    time_machine.move_to("2025-03-01 08:11:00+01:00", tick=False)
    assert _login(client, "david", PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.failed_logins == 0 and user.locked_until is None


@override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_FAILURE_WINDOW_S=600)
def test_message_is_the_same_for_unknown_user_wrong_password_and_locked_account(client):
    UserFactory(username="erik")
    UserFactory(username="frida")
    _login(client, "frida", "wrong")
    _login(client, "frida", "wrong")

    def error_of(response):
        return response.context["form"].non_field_errors()

    unknown = _login(client, "nobody-here", "whatever")
    wrong = _login(client, "erik", "wrong")
    locked = _login(client, "frida", PASSWORD)

    assert error_of(unknown) == error_of(wrong) == error_of(locked)
    assert unknown.status_code == wrong.status_code == locked.status_code == 400


@override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_FAILURE_WINDOW_S=600)
def test_lockout_of_one_account_leaves_another_account_on_the_same_ip_unaffected(client):
    UserFactory(username="gustav")
    UserFactory(username="helena")
    same_ip = {"REMOTE_ADDR": "10.0.0.7"}
    _login(client, "gustav", "wrong", **same_ip)
    _login(client, "gustav", "wrong", **same_ip)

    assert _login(client, "helena", PASSWORD, **same_ip).status_code == 302


def test_inactive_account_is_refused_with_the_generic_message(client):
    UserFactory(username="ivar", is_active=False)
    response = _login(client, "ivar", PASSWORD)
    assert response.status_code == 400
    assert str(LOGIN_REFUSED_MESSAGE) in response.content.decode()


def test_logout_needs_post(client):
    UserFactory(username="jonna")
    _login(client, "jonna", PASSWORD)

    assert client.get(reverse("logout")).status_code == 405
    assert "_auth_user_id" in client.session
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_next_parameter_to_another_host_is_ignored(client):
    UserFactory(username="karin")
    response = client.post(
        LOGIN, {"username": "karin", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_pages_ask_anonymous_visitors_to_log_in(client):
    response = client.get("/units/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
