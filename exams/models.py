"""Test definitions (platform level) and everything a school prepares before the day."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from provplattform.models import StampedModel
from schools.models import Country, Person, SchoolUnit


class Programme(models.TextChoices):
    SE_NATIONAL = "se_national", _("Swedish national test")
    NO_MAPPING = "no_mapping", _("Norwegian mapping test")


# The content language of a test that names none.
PROGRAMME_LANG = {"se_national": "sv", "no_mapping": "nb"}
# Where each programme's tests are given: a unit only takes tests of its organiser's country.
PROGRAMME_COUNTRY = {Programme.SE_NATIONAL: Country.SWEDEN, Programme.NO_MAPPING: Country.NORWAY}


class DefinitionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class Tool(models.TextChoices):
    CALCULATOR = "calculator", _("Calculator")
    SPELL_CHECK = "spell_check", _("Spell check")
    TEXT_TO_SPEECH = "text_to_speech", _("Text to speech")
    DICTIONARY = "dictionary", _("Dictionary")
    ENLARGED_TEXT = "enlarged_text", _("Enlarged text")


class AdjustmentKind(models.TextChoices):
    EXTENDED_TIME = "extended_time", _("Extended time")
    TOOLS = "tools", _("Tools")
    READ_ALOUD = "read_aloud", _("Read aloud")
    SEPARATE_ROOM = "separate_room", _("Separate room")


class TestDefinition(StampedModel):
    """A test (prov/prøve), published by the platform operator. Each version is its own row."""

    __test__ = False  # not a pytest class

    code = models.SlugField(max_length=80)
    version = models.PositiveIntegerField(default=1)
    previous_version = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    programme = models.CharField(max_length=20, choices=Programme.choices)
    title = models.CharField(max_length=200)
    subject = models.CharField(max_length=100)
    grade = models.PositiveSmallIntegerField(help_text=_("School year (årskurs/trinn)."))
    period = models.CharField(max_length=40, blank=True, help_text=_("E.g. VT2027, autumn 2026."))
    status = models.CharField(
        max_length=10, choices=DefinitionStatus.choices, default=DefinitionStatus.DRAFT
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mandatory = models.BooleanField(default=True)
    window_start = models.DateField()
    window_end = models.DateField()
    registration_opens = models.DateField(null=True, blank=True)
    registration_closes = models.DateField(null=True, blank=True)
    assignment_opens_days_before = models.PositiveSmallIntegerField(default=21)
    # Swedish programme: minimum total points per test grade, e.g. {"E": 20, "C": 35, "A": 50}.
    grade_boundaries = models.JSONField(default=dict, blank=True)
    # Swedish programme: per-part requirements, grade -> subtest code -> minimum points, e.g.
    # {"C": {"B": 8}}: "C requires at least 8 points in subtest B" (and so do B and A).
    grade_requirements = models.JSONField(default=dict, blank=True)
    # Norwegian programme: a result at or below this total is below the concern threshold.
    concern_threshold = models.PositiveIntegerField(null=True, blank=True)
    # The language of the test content (BCP 47, e.g. "sv", "nb", "en"); empty: the programme's.
    lang = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-window_start", "title"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="test_code_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class Subtest(StampedModel):
    """Delprov / delprøve: the unit that is assigned, sat and timed."""

    test = models.ForeignKey(TestDefinition, on_delete=models.CASCADE, related_name="subtests")
    position = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    on_platform = models.BooleanField(
        default=True, help_text=_("False for parts done outside the platform, e.g. an oral part.")
    )
    duration_minutes = models.PositiveIntegerField(default=45)
    opens_at = models.TimeField(default=datetime.time(8, 0))
    closes_at = models.TimeField(default=datetime.time(17, 0))
    # Inside the test's window; empty means the test's own window.
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    tools = models.JSONField(default=list, blank=True)  # Tool values available to everyone
    permitted_adjustments = models.JSONField(default=list, blank=True)  # AdjustmentKind values
    permitted_tools = models.JSONField(default=list, blank=True)  # tools an adjustment may add
    concern_threshold = models.PositiveIntegerField(null=True, blank=True)
    # A part outside the platform has no items; its result is entered afterwards, up to this.
    max_points = models.PositiveIntegerField(null=True, blank=True)
    # Set when the first student starts: from then on items are frozen.
    frozen_at = models.DateTimeField(null=True, blank=True)
    # The content's language where it differs from the test's (an English test in Norway).
    lang = models.CharField(max_length=20, blank=True)
    # The dictionary tool's word list: [{"term": ..., "definition": ...}]; the tool is offered
    # only where the definition provides one.
    dictionary = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["test", "position"]
        constraints = [models.UniqueConstraint(fields=["test", "code"], name="subtest_code_unique")]

    def __str__(self) -> str:
        return f"{self.test.title}: {self.title}"

    @property
    def content_lang(self) -> str:
        """The language the items are written in, so they are read aloud in that language."""
        return self.lang or self.test.lang or PROGRAMME_LANG.get(self.test.programme, "sv")

    @property
    def effective_window(self) -> tuple[datetime.date, datetime.date]:
        return (
            self.window_start or self.test.window_start,
            self.window_end or self.test.window_end,
        )


class ItemKind(models.TextChoices):
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    TEXT_ENTRY = "text_entry", _("Text entry")
    NUMERIC = "numeric", _("Numeric")
    EXTENDED_TEXT = "extended_text", _("Extended text")


class Item(StampedModel):
    """Uppgift / oppgave.

    `choices`: [{"id": "A", "html": "..."}]. `answer_key`: for choices a list of correct ids, for
    text entry a list of accepted answers, for numeric {"value": 3.5, "tolerance": 0.1}; empty for
    extended text, which a person assesses.
    """

    subtest = models.ForeignKey(Subtest, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    identifier = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    max_points = models.PositiveSmallIntegerField(default=1)
    content_html = models.TextField(help_text=_("Sanitised HTML."))
    choices = models.JSONField(default=list, blank=True)
    answer_key = models.JSONField(default=list, blank=True)
    scoring_criteria = models.TextField(blank=True)
    # Listening parts: how often the student may play the item's sound (empty: no limit). The
    # server counts the plays (delivery.AudioPlay).
    audio_plays = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["subtest", "position"]
        constraints = [
            models.UniqueConstraint(fields=["subtest", "identifier"], name="item_identifier_unique")
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def is_machine_scored(self) -> bool:
        return self.kind != ItemKind.EXTENDED_TEXT


class ItemAsset(StampedModel):
    """An image or a sound referenced from item content."""

    test = models.ForeignKey(TestDefinition, on_delete=models.CASCADE, related_name="assets")
    path = models.CharField(max_length=300, help_text=_("Path inside the content package."))
    file = models.FileField(upload_to="item-assets/")


# --- Before the day, per school unit ------------------------------------------------------------


class Room(StampedModel):
    """Genomföranderum / lokal."""

    school_unit = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["school_unit", "name"], name="room_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Registration(StampedModel):
    """A school's registration (påmelding) for a voluntary test: it becomes mandatory there."""

    school_unit = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE, related_name="+")
    test = models.ForeignKey(TestDefinition, on_delete=models.CASCADE, related_name="registrations")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school_unit", "test"], name="registration_unique")
        ]


class AssignmentSource(models.TextChoices):
    STUDENT = "student", _("Assigned to the student")
    GROUP = "group", _("Assigned through a teaching group")
    GRADE = "grade", _("Assigned to the whole grade")
    AUTOMATIC = "automatic", _("Mandatory test, assigned automatically")


class Assignment(StampedModel):
    """A subtest assigned to a student at a school unit."""

    school_unit = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE, related_name="+")
    subtest = models.ForeignKey(Subtest, on_delete=models.PROTECT, related_name="assignments")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="assignments")
    source = models.CharField(max_length=10, choices=AssignmentSource.choices)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subtest", "person"], name="assignment_unique")
        ]
        indexes = [models.Index(fields=["school_unit", "subtest"])]


class SittingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    POSTPONED = "postponed", _("Postponed")
    ENDED = "ended", _("Ended")


class Sitting(StampedModel):
    """Provtillfälle: one subtest, at one time, in one room, with its students and proctors."""

    school_unit = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE, related_name="sittings")
    subtest = models.ForeignKey(Subtest, on_delete=models.PROTECT, related_name="sittings")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="sittings")
    starts_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=SittingStatus.choices, default=SittingStatus.SCHEDULED
    )
    is_catch_up = models.BooleanField(default=False)
    postponed_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="postponed_from"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    # Attempts still open are submitted at this time; empty: when the subtest's opening hours
    # end on the sitting's day (delivery.closing.sitting_closes_at).
    closes_at = models.DateTimeField(null=True, blank=True)
    # Off-platform subtests: the person responsible for entering the results afterwards.
    results_entered_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    students = models.ManyToManyField(Person, through="SittingStudent", related_name="sittings")
    proctors = models.ManyToManyField(
        Person, through="SittingProctor", related_name="proctored_sittings"
    )

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        # Stored in UTC; people read the school's clock.
        return f"{self.subtest} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M} ({self.room})"


class SittingStudent(models.Model):
    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="placements")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="placements")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sitting", "person"], name="sitting_student_unique")
        ]


class SittingProctor(models.Model):
    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="proctorships")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="proctorships")
    is_backup = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sitting", "person"], name="sitting_proctor_unique")
        ]


class PaperReplacement(StampedModel):
    """A student did the subtest as a paper replacement test; the result is entered in grading."""

    school_unit = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE, related_name="+")
    subtest = models.ForeignKey(Subtest, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subtest", "person"], name="paper_replacement_unique")
        ]


class DayPassword(StampedModel):
    """Dagspassord: per school unit and day, readable aloud, shown only to proctors and admins."""

    school_unit = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    password = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school_unit", "date"], name="day_password_unique")
        ]


class Adjustment(StampedModel):
    """Anpassning for one student: for one subtest, or (subtest empty) the whole test."""

    school_unit = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="adjustments")
    test = models.ForeignKey(TestDefinition, on_delete=models.PROTECT, related_name="+")
    subtest = models.ForeignKey(
        Subtest, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    extended_minutes = models.PositiveIntegerField(null=True, blank=True)
    extended_percent = models.PositiveIntegerField(null=True, blank=True)
    tools = models.JSONField(default=list, blank=True)
    other_kinds = models.JSONField(default=list, blank=True)  # e.g. read_aloud, separate_room
    decided_by = models.ForeignKey(
        Person,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The head teacher who decided the adjustment."),
    )
    decided_on = models.DateField(null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    # Set when the student starts the subtest: from then on only an audited change on the day.
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "test", "subtest"],
                name="adjustment_unique",
                nulls_distinct=False,
            )
        ]

    def extra_minutes_for(self, duration_minutes: int) -> int:
        minutes = self.extended_minutes or 0
        if self.extended_percent:
            minutes += -(-duration_minutes * self.extended_percent // 100)  # round up
        return minutes


class ExemptionGround(models.TextChoices):
    SPECIAL_EDUCATION = "special_education", _("Individual decision on special education")
    LANGUAGE_TRAINING = (
        "language_training",
        _("Individual decision on special language training for linguistic minorities"),
    )


class Exemption(StampedModel):
    """Fritak (Norwegian programme). Never automatic; decided by the head teacher."""

    school_unit = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="exemptions")
    test = models.ForeignKey(TestDefinition, on_delete=models.PROTECT, related_name="+")
    subtest = models.ForeignKey(
        Subtest, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ground = models.CharField(max_length=20, choices=ExemptionGround.choices)
    decision_reference = models.CharField(max_length=100)
    attested_no_significance = models.BooleanField(
        help_text=_("The result would not matter for the student's education.")
    )
    decided_by = models.ForeignKey(Person, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_on = models.DateField(null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "test", "subtest"],
                name="exemption_unique",
                nulls_distinct=False,
            )
        ]


class ChecklistAcknowledgement(StampedModel):
    """A readiness item a person confirmed by hand (e.g. the technical checklist)."""

    school_unit = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE, related_name="+")
    sitting = models.ForeignKey(
        Sitting, null=True, blank=True, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    key = models.CharField(max_length=60)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )


class SubtestStart(models.Model):
    """A student started a subtest (recorded when delivery locks the adjustments).

    From then on the student's adjustments for that subtest (or its whole test) are locked, even
    ones entered afterwards, and the student can no longer be exempted from it.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    subtest = models.ForeignKey(Subtest, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "subtest"], name="subtest_start_unique")
        ]
