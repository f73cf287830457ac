"""Per-account throttling holds on every login path, not only on the staff login page."""

import pytest
from django.contrib.auth import authenticate
from django.test import override_settings

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/?next=/admin/"


def _admin_login(client, username, password):
    return client.post(ADMIN_LOGIN, {"username": username, "password": password})


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_S=600)
def test_failures_on_the_admin_login_lock_the_account(client):
    # given an operator account with access to the admin site
    user = UserFactory(username="operatör", is_staff=True, is_superuser=True)
    # when someone guesses three times through the admin login
    for _ in range(3):
        assert _admin_login(client, "operatör", "wrong").status_code == 200
    # then the account is locked and even the right password is refused there
    user.refresh_from_db()
    assert user.failed_logins == 3 and user.locked_until is not None
    assert _admin_login(client, "operatör", PASSWORD).status_code == 200
    assert "_auth_user_id" not in client.session
    # and on the staff login page
    assert client.post("/login/", {"username": "operatör", "password": PASSWORD}).status_code == 400


@override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_FAILURE_WINDOW_S=600)
def test_a_lock_from_the_login_page_holds_on_the_admin_login(client):
    UserFactory(username="superuser", is_staff=True, is_superuser=True)
    for _ in range(2):
        client.post("/login/", {"username": "superuser", "password": "wrong"})

    response = _admin_login(client, "superuser", PASSWORD)

    assert response.status_code == 200  # the form again, not a redirect into the admin
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_FAILURE_WINDOW_S=600)
def test_authenticate_itself_refuses_a_locked_account():
    UserFactory(username="lena")
    assert authenticate(None, username="lena", password="wrong") is None
    assert authenticate(None, username="lena", password="wrong") is None

    assert authenticate(None, username="lena", password=PASSWORD) is None


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_S=600)
def test_one_failure_is_counted_once(client):
    user = UserFactory(username="maja")
    client.post("/login/", {"username": "maja", "password": "wrong"})
    user.refresh_from_db()
    assert user.failed_logins == 1


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_S=600)
def test_a_successful_admin_login_starts_the_count_afresh(client):
    user = UserFactory(username="nils", is_staff=True, is_superuser=True)
    _admin_login(client, "nils", "wrong")
    _admin_login(client, "nils", "wrong")

    assert _admin_login(client, "nils", PASSWORD).status_code == 302

    user.refresh_from_db()
    assert user.failed_logins == 0
