"""Student login: platform-generated credentials or a printed one-time code, plus the day password.

Student secrets are random (10 characters from a 31-character alphabet, about 50 bits), so a fast
keyed hash is adequate and keeps a burst of 1,000 logins from being CPU-bound: HMAC-SHA256 over a
per-credential salt and the secret, keyed with a server-side pepper that is not in the database.
Staff passwords are chosen by people and keep Django's slow hasher. See docs/security.md.

Errors are generic (the same message whatever was wrong) and failures are counted per account,
never per address: a whole classroom shares one.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery import notices
from delivery.attempts import AttemptRefused, require_placed
from delivery.models import Attempt, AttemptStatus, LoginCode, StudentCredential
from exams.day_passwords import day_password_check, unit_zone
from exams.models import Sitting, SittingProctor, SittingStatus
from provplattform.audit import AuditAction, audit_record
from provplattform.errors import NotFound, Refused
from provplattform.live import send_on_commit
from schools.models import Person, User
from schools.roles import Capability
from schools.selectors import user_has_capability

logger = logging.getLogger(__name__)

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no i, l, o, 0, 1
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SECRET_LENGTH = 10
CODE_LENGTH = 12


class LoginRefused(Refused):
    """Generic refusal; `message` is what the student sees."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.code = code


def generic_error() -> LoginRefused:
    return LoginRefused(
        _("The login details or the day password are not right. Check them and try again.")
    )


def _pepper() -> bytes:
    return settings.STUDENT_CREDENTIAL_PEPPER.encode()


def secret_digest(*, salt: str, secret: str) -> str:
    return hmac.new(_pepper(), f"{salt}:{secret}".encode(), hashlib.sha256).hexdigest()


def code_digest(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hmac.new(_pepper(), f"code:{normalised}".encode(), hashlib.sha256).hexdigest()


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class Slip:
    """What is printed for one student. `secret` is empty when the credential already existed."""

    person: Person
    username: str
    secret: str
    code: str


def credential_issue(*, person: Person, reset: bool = False) -> tuple[StudentCredential, str]:
    """Create (or with `reset`, renew) a student's credential; the secret is returned only now."""
    secret = _random(ALPHABET, SECRET_LENGTH)
    salt = secrets.token_hex(8)
    existing = StudentCredential.objects.filter(person=person).first()
    if existing and not reset:
        return existing, ""
    if existing:
        existing.salt = salt
        existing.secret_digest = secret_digest(salt=salt, secret=secret)
        existing.failed_logins = 0
        existing.locked_until = None
        existing.save()
        return existing, secret
    while True:
        username = "e" + _random(ALPHABET, 7)
        if not StudentCredential.objects.filter(username=username).exists():
            break
    credential = StudentCredential.objects.create(
        person=person,
        username=username,
        salt=salt,
        secret_digest=secret_digest(salt=salt, secret=secret),
    )
    return credential, secret


def login_slips_issue(
    *, actor: User, sitting: Sitting, reset_passwords: bool = False
) -> list[Slip]:
    """Credentials for every student of the sitting who lacks one, and fresh one-time codes for all.

    Earlier unused codes for the sitting stop working. Secrets and codes are shown once.
    """
    slips: list[Slip] = []
    with transaction.atomic():
        LoginCode.objects.filter(sitting=sitting, used_at__isnull=True).delete()
        persons = Person.objects.filter(placements__sitting=sitting).order_by(
            "family_name", "given_name"
        )
        for person in persons:
            credential, secret = credential_issue(person=person, reset=reset_passwords)
            code = _random(CODE_ALPHABET, CODE_LENGTH)
            LoginCode.objects.create(sitting=sitting, person=person, code_digest=code_digest(code))
            slips.append(Slip(person, credential.username, secret, format_code(code)))
        audit_record(
            actor=actor,
            action=AuditAction.SITTING_LOGIN_SLIPS_ISSUE,
            target=sitting,
            scope=sitting.school_unit,
            after={"students": len(slips), "passwords_reset": reset_passwords},
        )
    return slips


# --- checking -----------------------------------------------------------------------------------


def _locked(credential: StudentCredential, now: datetime.datetime) -> bool:
    return credential.locked_until is not None and credential.locked_until > now


def _fail(credential: StudentCredential, now: datetime.datetime) -> None:
    """Count a failure on the account; lock it for a while after too many (audited, and the
    proctors of the student's sitting today see it in the room)."""
    StudentCredential.objects.filter(pk=credential.pk).update(failed_logins=F("failed_logins") + 1)
    credential.refresh_from_db(fields=["failed_logins"])
    if credential.failed_logins >= settings.LOGIN_FAILURE_LIMIT:
        locked_until = now + datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_S)
        StudentCredential.objects.filter(pk=credential.pk).update(
            locked_until=locked_until, failed_logins=0
        )
        _locked_changed(credential, now=now, locked_until=locked_until, actor=None)


def _locked_changed(
    credential: StudentCredential,
    *,
    now: datetime.datetime,
    locked_until: datetime.datetime | None,
    actor: User | None,
    sitting: Sitting | None = None,
    before: datetime.datetime | None = None,
) -> None:
    """Audit a lock or an unlock of a student's login and tell the room of today's sitting."""
    sitting = sitting or todays_sitting(person=credential.person, now=now)
    if locked_until is not None:
        logger.warning("student login locked credential_id=%s", credential.pk)
    audit_record(
        actor=actor,
        action=AuditAction.STUDENT_LOGIN_LOCKED
        if locked_until
        else AuditAction.STUDENT_LOGIN_UNLOCK,
        target=credential,
        before={"locked_until": before.isoformat()} if before else None,
        after={"locked_until": locked_until.isoformat() if locked_until else None},
        scope=sitting.school_unit if sitting else None,
    )
    if sitting is None:
        return
    attempt = Attempt.objects.filter(sitting=sitting, person=credential.person).first()
    if attempt is not None:
        send_on_commit(
            notices.sitting_group(sitting.public_id),
            {
                "type": "attempt.changed",
                "attempt": str(attempt.public_id),
                "person": str(credential.person.public_id),
                "locked": locked_until is not None,
            },
        )


def may_unlock(*, user: User, sitting: Sitting) -> bool:
    """Administrators of the unit's tests, and the proctors named for this sitting."""
    unit = sitting.school_unit
    if user_has_capability(user=user, school_unit=unit, capability=Capability.ADMINISTER_TESTS):
        return True
    return bool(
        user.person_id
        and user_has_capability(user=user, school_unit=unit, capability=Capability.PROCTOR)
        and SittingProctor.objects.filter(sitting=sitting, person_id=user.person_id).exists()
    )


def locked_person_ids(*, sitting: Sitting, now: datetime.datetime | None = None) -> set[int]:
    """Students placed in the sitting whose login is locked now (one query)."""
    return set(
        StudentCredential.objects.filter(
            person__placements__sitting=sitting, locked_until__gt=now or timezone.now()
        ).values_list("person_id", flat=True)
    )


def student_login_unlock(*, actor: User, sitting: Sitting, person: Person) -> StudentCredential:
    """Lift the lock on a student's login after too many failures, audited.

    Only for a student placed in the sitting, by its named proctors or the unit's test
    administrators; anyone else is told it does not exist. Refused when nothing is locked.
    """
    if not may_unlock(user=actor, sitting=sitting):
        raise NotFound()
    require_placed(sitting=sitting, person=person)
    now = timezone.now()
    with transaction.atomic():
        credential = (
            StudentCredential.objects.select_for_update()
            .select_related("person")
            .filter(person=person)
            .first()
        )
        if credential is None or not _locked(credential, now):
            raise AttemptRefused(_("This student's login is not locked."), code="not_locked")
        before = credential.locked_until
        credential.locked_until = None
        credential.failed_logins = 0
        credential.save(update_fields=["locked_until", "failed_logins", "modified"])
        _locked_changed(
            credential, now=now, locked_until=None, actor=actor, sitting=sitting, before=before
        )
    return credential


def todays_sitting(*, person: Person, now: datetime.datetime) -> Sitting | None:
    """The student's sitting today that is not finished: the earliest still open.

    One query: the day's sittings with their unit (and organiser, for the day password's time
    zone), subtest and room, each marked whether the student already submitted or is exempt.
    """
    # "Today" is the school's day, on its organiser's clock: take the sittings of the days
    # around now (every time zone is within a day of UTC), keep those on the school's today.
    nearby = list(
        Sitting.objects.filter(
            placements__person=person,
            status=SittingStatus.SCHEDULED,
            subtest__on_platform=True,
            starts_at__gte=now - datetime.timedelta(days=1),
            starts_at__lt=now + datetime.timedelta(days=1),
        )
        .select_related("school_unit__organiser", "subtest", "room")
        .annotate(
            finished=Exists(
                Attempt.objects.filter(
                    sitting=OuterRef("pk"),
                    person=person,
                    status__in=(AttemptStatus.SUBMITTED, AttemptStatus.EXEMPT),
                )
            )
        )
        .order_by("starts_at")
    )
    candidates = [sitting for sitting in nearby if _on_the_units_day(sitting, now)]
    for sitting in candidates:
        if not sitting.finished:
            return sitting
    return candidates[-1] if candidates else None


def _on_the_units_day(sitting: Sitting, now: datetime.datetime) -> bool:
    zone = unit_zone(sitting.school_unit)
    return sitting.starts_at.astimezone(zone).date() == now.astimezone(zone).date()


def _day_password_ok(*, sitting: Sitting, value: str, now: datetime.datetime) -> bool:
    return bool(day_password_check(school_unit=sitting.school_unit, value=value, now=now))


def student_authenticate(
    *,
    username: str = "",
    password: str = "",
    code: str = "",
    day_password: str = "",
    now: datetime.datetime | None = None,
) -> tuple[Person, Sitting]:
    """The student and today's sitting, or LoginRefused with the one generic message."""
    now = now or timezone.now()
    if code.strip():
        return _authenticate_code(code=code, day_password=day_password, now=now)
    credential = (
        StudentCredential.objects.select_related("person")
        .filter(username=username.strip().lower())
        .first()
    )
    if credential is None or _locked(credential, now):
        # Spend the same work either way, so response time does not reveal the account.
        secret_digest(salt="0" * 16, secret=password)
        raise generic_error()
    ok = hmac.compare_digest(
        credential.secret_digest, secret_digest(salt=credential.salt, secret=password.strip())
    )
    sitting = todays_sitting(person=credential.person, now=now) if ok else None
    if (
        not ok
        or sitting is None
        or not _day_password_ok(sitting=sitting, value=day_password, now=now)
    ):
        _fail(credential, now)
        raise generic_error()
    if credential.failed_logins:
        StudentCredential.objects.filter(pk=credential.pk).update(failed_logins=0)
    return credential.person, sitting


def _authenticate_code(*, code: str, day_password: str, now: datetime.datetime):
    with transaction.atomic():
        login_code = (
            LoginCode.objects.select_for_update()
            .select_related("person", "sitting__school_unit__organiser", "sitting__subtest")
            .filter(code_digest=code_digest(code), used_at__isnull=True)
            .first()
        )
        if login_code is None:
            raise generic_error()
        sitting = login_code.sitting
        if (
            sitting.status != SittingStatus.SCHEDULED
            or not _on_the_units_day(sitting, now)
            or not _day_password_ok(sitting=sitting, value=day_password, now=now)
        ):
            # A wrong day password does not burn the code.
            raise generic_error()
        login_code.used_at = now
        login_code.save(update_fields=["used_at", "modified"])
        return login_code.person, sitting
