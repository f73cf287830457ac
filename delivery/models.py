"""The live sitting: attempts, responses, presence notices and service announcements."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.functional import classproperty
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from exams.models import Item, Sitting
from provplattform.models import StampedModel
from schools.models import Person


class AttemptStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not logged in")
    WAITING = "waiting", _("Waiting")
    WORKING = "working", pgettext_lazy("attempt status", "Working")
    PAUSED = "paused", _("Paused")
    SUBMITTED = "submitted", _("Submitted")
    ABSENT = "absent", _("Absent")
    EXEMPT = "exempt", _("Exempt")

    # The statuses named once, for every place that asks "is the test in progress?" and the like.
    # Sets, so where the order matters (a list shown to people) the caller spells it out.

    @classproperty
    def BEFORE_START(cls) -> frozenset[AttemptStatus]:
        """Not started yet: may still be released, started or marked absent."""
        return frozenset({cls.NOT_STARTED, cls.WAITING})

    @classproperty
    def OPEN(cls) -> frozenset[AttemptStatus]:
        """In progress: the clock has started and the student has not submitted."""
        return frozenset({cls.WORKING, cls.PAUSED})

    @classproperty
    def LOGGED_IN(cls) -> frozenset[AttemptStatus]:
        """Logged in and not finished: the proctor room follows the student's connection, and a
        login on another device replaces this one."""
        return frozenset({cls.WAITING, cls.WORKING, cls.PAUSED})

    @classproperty
    def FINISHED(cls) -> frozenset[AttemptStatus]:
        """Nothing more happens to the student: the room counts them done, their connection is
        no longer followed and no time can be added."""
        return frozenset({cls.SUBMITTED, cls.ABSENT, cls.EXEMPT})


class Attempt(StampedModel):
    """One student's attempt at one sitting's subtest.

    The deadline is always started_at + duration + extended time + added time + paused time;
    the server's clock is the authority.
    """

    sitting = models.ForeignKey(Sitting, on_delete=models.PROTECT, related_name="attempts")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="attempts")
    status = models.CharField(
        max_length=12, choices=AttemptStatus.choices, default=AttemptStatus.NOT_STARTED
    )
    released_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(default=0)
    extended_seconds = models.PositiveIntegerField(default=0)
    added_seconds = models.PositiveIntegerField(default=0)
    paused_seconds = models.PositiveIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    auto_submitted = models.BooleanField(default=False)
    # The one device allowed to save; a login elsewhere replaces it.
    device_token = models.CharField(max_length=64, blank=True)
    device_label = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sitting", "person"], name="attempt_unique")]
        indexes = [models.Index(fields=["status", "deadline"])]


class Response(models.Model):
    """Elevlösning for one item. Only a save with a higher sequence number replaces the content."""

    attempt = models.ForeignKey(Attempt, on_delete=models.PROTECT, related_name="responses")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="responses")
    content = models.JSONField(null=True, blank=True)
    seq = models.BigIntegerField(default=0)
    flagged = models.BooleanField(default=False)
    client_saved_at = models.DateTimeField(null=True, blank=True)
    server_saved_at = models.DateTimeField(auto_now=True)
    late = models.BooleanField(
        default=False, help_text=_("Delivered after the deadline; see the late-delivery rule.")
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "item"], name="response_unique")]


class StudentCredential(StampedModel):
    """A student's platform-generated username and secret.

    The secret is random (about 50 bits), so a keyed fast hash is enough: HMAC-SHA256 with a
    per-credential salt and a server-side pepper. See docs/security.md.
    """

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="credential")
    username = models.CharField(max_length=40, unique=True)
    salt = models.CharField(max_length=32)
    secret_digest = models.CharField(max_length=64)
    # Failed logins are counted per account: a classroom shares one address.
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)


class LoginCode(StampedModel):
    """A one-time login code printed for one student and one sitting; only its hash is kept."""

    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="login_codes")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    code_digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)


class NoticeKind(models.TextChoices):
    CONNECTION_LOST = "connection_lost", _("Connection lost")
    CONNECTION_RESTORED = "connection_restored", _("Connection restored")
    DEVICE_SWITCHED = "device_switched", _("Switched device")
    ARRIVED_AFTER_ABSENT = "arrived_late", _("Arrived after being marked absent")
    ROOM_CONNECTION_LOST = "room_connection_lost", _("Many students in a room lost connection")
    SUBMITTED = "submitted", _("Submitted")
    SUBMITTED_AT_CLOSING = "closing_submit", _("Submitted when the sitting closed")


class Notice(models.Model):
    """A connectivity notice, stored so a reloaded proctor page shows the history."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    sitting = models.ForeignKey(
        Sitting, null=True, blank=True, on_delete=models.CASCADE, related_name="notices"
    )
    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="notices"
    )
    room = models.ForeignKey(
        "exams.Room", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=NoticeKind.choices)
    data = models.JSONField(default=dict, blank=True)  # e.g. {"outage_seconds": 31, "count": 23}

    class Meta:
        ordering = ["-at", "-id"]


class Announcement(StampedModel):
    """Driftinformation from the platform operator; shown on the status page and as a banner."""

    class Severity(models.TextChoices):
        INFO = "info", _("Information")
        DISRUPTION = "disruption", _("Disruption")
        RESOLVED = "resolved", _("Resolved")

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    severity = models.CharField(max_length=12, choices=Severity.choices, default=Severity.INFO)
    visible_from = models.DateTimeField()
    visible_until = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )


class AudioPlay(models.Model):
    """How often a student has played an item's sound: the server counts, so the definition's
    limit holds however the page is reloaded or the device changed (delivery.listening)."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="audio_plays")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    plays = models.PositiveSmallIntegerField(default=0)
    last_played_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "item"], name="audio_play_unique")
        ]
