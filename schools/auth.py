"""Staff login on top of Django's authentication backends, throttled per account.

Passwords are checked by whatever backends `AUTHENTICATION_BACKENDS` lists, so a single sign-on
backend (OIDC, SAML) can join later without touching this module; see docs/authentication.md.

Throttling counts failed attempts per *account*, never per IP address: a whole school shares one
address, and one pupil guessing must not lock out every teacher. After `LOGIN_FAILURE_LIMIT`
consecutive failures the account is locked for `LOGIN_FAILURE_WINDOW_S` seconds; while locked,
even the right password is refused. The caller shows one generic message for every refusal.

The lock and the count live in the authentication layer itself, not in one view, so every path
that calls `django.contrib.auth.authenticate()` — the staff login page, the admin site's login, any
later one — is throttled alike: `AccountLockBackend` (first in `AUTHENTICATION_BACKENDS`) refuses a
locked account before any backend checks a password, and the `user_login_failed` /
`user_logged_in` receivers (connected in `SchoolsConfig.ready`) count and reset.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from provplattform.audit import AuditAction, audit_record

if TYPE_CHECKING:
    from schools.models import User

logger = logging.getLogger(__name__)

# One message for a wrong username, a wrong password and a locked account alike.
LOGIN_REFUSED_MESSAGE = _(
    "The username or password is wrong, or the account is locked for a while. "
    "Check your details and try again later."
)


def _account(username: str):
    user_model = get_user_model()
    return user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()


def _is_locked(account, now: datetime.datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def _record_failure(account_id: int, now: datetime.datetime) -> None:
    user_model = get_user_model()
    with transaction.atomic():
        account = user_model._default_manager.select_for_update().get(pk=account_id)
        if account.locked_until is not None and account.locked_until <= now:
            account.failed_logins = 0  # an expired lock starts a fresh count
            account.locked_until = None
        account.failed_logins += 1
        if account.failed_logins >= settings.LOGIN_FAILURE_LIMIT:
            account.locked_until = now + datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_S)
        account.save(update_fields=["failed_logins", "locked_until"])
        if account.locked_until is not None:
            logger.warning("login locked account_id=%s", account.pk)
            audit_record(
                actor=None,
                action=AuditAction.LOGIN_LOCKED,
                target=account,
                after={"locked_until": account.locked_until.isoformat()},
            )


def _record_success(account) -> None:
    if account.failed_logins or account.locked_until:
        account.failed_logins = 0
        account.locked_until = None
        account.save(update_fields=["failed_logins", "locked_until"])


class AccountLockBackend(BaseBackend):
    """Refuses a locked account before any other backend looks at the password.

    Raising PermissionDenied makes `authenticate()` stop at once (no later backend is asked) and
    send `user_login_failed`, so a lock holds on every login path, not only on the login page.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username:
            return None
        account = _account(username)
        if account is not None and _is_locked(account, timezone.now()):
            # Do the same hashing work as a real check so a lock cannot be told apart by timing.
            get_user_model()().set_password(password or "")
            raise PermissionDenied
        return None

    def get_user(self, user_id):
        # Being first in the list, this backend is what `Client.force_login` and a `login()`
        # without a backend attribute record in the session; load users as ModelBackend does.
        return ModelBackend().get_user(user_id)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """`user_login_failed` receiver: one more failure for the named account (if not locked)."""
    username = credentials.get("username") if isinstance(credentials, dict) else None
    if not username:
        return
    now = timezone.now()
    account = _account(username)
    if account is None or _is_locked(account, now):
        return  # unknown names are not stored; a refused locked attempt does not extend the lock
    _record_failure(account.pk, now)


def on_logged_in(sender, request, user: User, **kwargs) -> None:
    """`user_logged_in` receiver: a successful login starts the count afresh."""
    if hasattr(user, "failed_logins"):
        _record_success(user)


def login_attempt(*, request: HttpRequest | None, username: str, password: str):
    """The authenticated user, or None. Never tells the caller *why* a login was refused.

    Locks and failure counts are handled inside `authenticate()` (see the module docstring).
    """
    user = authenticate(request, username=username, password=password)
    if user is None:
        return None
    _record_success(user)
    return user


def password_reset_recorded(*, user: User) -> None:
    """A password set through an e-mailed link is audited. The failure count and any lock stay as
    they are: a reset link is no way around the per-account throttling."""
    logger.info("password reset account_id=%s", user.pk)
    audit_record(actor=user, action=AuditAction.PASSWORD_RESET, target=user)
