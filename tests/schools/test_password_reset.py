"""Staff reset their password by e-mail: transferred staff have no usable password until they do."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from provplattform.models import AuditEvent
from schools.models import User
from tests.factories import PersonFactory, SchoolUnitFactory, UserFactory, staff_member

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

NEW_PASSWORD = "Ny-lösen-för-provdagen-42"


@pytest.fixture
def transferred():
    """A member of staff as the organiser's transfer leaves them: address on the person only,
    no usable password."""
    user = staff_member(SchoolUnitFactory())
    user.person.email = "Karin.Larsson@skola.example"
    user.person.save()
    user.set_unusable_password()
    user.save()
    return user


def _ask(client, address):
    return client.post("/password-reset/", {"email": address})


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/password-reset/\S+/)", message.body).group(1)


def _set_password(client, link):
    # Django moves the token into the session and redirects to a "set-password" URL.
    form = client.get(link, follow=True)
    assert form.context["validlink"]
    return client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def test_transferred_staff_sets_a_password_through_the_mailed_link_and_logs_in(client, transferred):
    # given a transferred member of staff who cannot log in yet
    assert not transferred.has_usable_password()
    # when they ask for a link with their address (in any case)
    response = _ask(client, "karin.larsson@skola.example")
    # then one message goes to the address the organiser gave
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["Karin.Larsson@skola.example"]
    assert transferred.username in mail.outbox[0].body
    # and the link lets them choose a password, once, and log in with it
    done = _set_password(client, _link(mail.outbox[0]))
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    assert "_auth_user_id" not in client.session  # no login by the link itself
    again = client.get(_link(mail.outbox[0]), follow=True)
    assert not again.context["validlink"]
    login = client.post("/login/", {"username": transferred.username, "password": NEW_PASSWORD})
    assert login.status_code == 302
    assert AuditEvent.objects.filter(
        action="password.reset", target_id=str(transferred.pk)
    ).exists()


def test_unknown_address_gets_the_same_answer_and_no_mail(client, transferred):
    known = _ask(client, "karin.larsson@skola.example")
    unknown = _ask(client, "nobody@skola.example")

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert len(mail.outbox) == 1
    page = client.get(unknown["Location"]).content.decode()
    assert "If the address belongs to an account" in page


def test_organiser_administrator_resets_by_their_own_address(client):
    admin = UserFactory(username="orgadmin", email="admin@kommun.example")
    _ask(client, "admin@kommun.example")
    assert [m.to for m in mail.outbox] == [["admin@kommun.example"]]
    assert "orgadmin" in mail.outbox[0].body
    assert admin.has_usable_password()


def test_inactive_login_and_removed_person_get_no_mail(client, transferred):
    User.objects.filter(pk=transferred.pk).update(is_active=False)
    _ask(client, "karin.larsson@skola.example")
    removed = PersonFactory(email="gone@skola.example", removed_at=timezone.now())
    UserFactory(person=removed)
    _ask(client, "gone@skola.example")
    assert mail.outbox == []


@override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_FAILURE_WINDOW_S=600)
def test_a_reset_does_not_lift_the_lock_of_the_account(client, transferred):
    # given an account locked by guesses
    for _ in range(2):
        client.post("/login/", {"username": transferred.username, "password": "wrong"})
    transferred.refresh_from_db()
    locked_until = transferred.locked_until
    assert locked_until is not None
    # when its holder sets a new password through a reset link
    _ask(client, "karin.larsson@skola.example")
    _set_password(client, _link(mail.outbox[0]))
    # then the lock stays, and even the new password is refused until it runs out
    transferred.refresh_from_db()
    assert transferred.locked_until == locked_until and transferred.failed_logins == 2
    login = client.post("/login/", {"username": transferred.username, "password": NEW_PASSWORD})
    assert login.status_code == 400


@pytest.mark.configured_language
def test_reset_pages_and_mail_are_in_swedish_by_default(client, transferred):
    assert "Glömt ditt lösenord?" in client.get("/login/").content.decode()
    page = client.get("/password-reset/").content.decode()
    assert '<html lang="sv">' in page and "Återställ ditt lösenord" in page
    _ask(client, "karin.larsson@skola.example")
    assert mail.outbox[0].subject == "Ett nytt lösenord till Provplattform"
    assert "Välj ett nytt lösenord" in mail.outbox[0].body


MAIL_SETTINGS = ["EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL"]


def _print_mail_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "DEFAULT_FROM"))}
    code = (
        "from django.conf import settings as s; "
        f"print([str(getattr(s, n)) for n in {MAIL_SETTINGS}])"
    )
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**clean, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _mail_settings(env: dict[str, str]) -> list[str]:
    result = _print_mail_settings(env)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])


def test_mail_settings_refuse_tls_and_ssl_together():
    result = _print_mail_settings({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"})
    assert result.returncode != 0
    assert "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true" in result.stderr


def test_mail_settings_come_from_the_environment_with_the_console_by_default():
    assert _mail_settings({})[0] == "django.core.mail.backends.console.EmailBackend"
    assert _mail_settings(
        {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "smtp.kommun.example",
            "EMAIL_PORT": "587",
            "EMAIL_USE_TLS": "true",
            "DEFAULT_FROM_EMAIL": "prov@kommun.example",
        }
    ) == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.kommun.example",
        "587",
        "True",
        "prov@kommun.example",
    ]
