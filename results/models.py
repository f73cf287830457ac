"""Computed results per student and subtest and per student and test, the results version of each
unit's test, follow-up measures (tiltak), the organiser's follow-up requests and export files.

Result rows are written only by `results.services.results_compute`; nobody edits them by hand.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from provplattform.models import StampedModel


class Presence(models.TextChoices):
    SAT = "sat", _("Sat")
    ABSENT = "absent", _("Absent")
    EXEMPT = "exempt", _("Exempt")
    NOT_SAT = "not_sat", _("Not yet sat")


class Incomplete(models.TextChoices):
    ITEMS_UNASSESSED = "items_unassessed", _("Items not yet assessed")
    NOT_ENTERED = "not_entered", _("Part outside the platform not entered")
    ABSENT = "absent", _("Absent")
    EXEMPT = "exempt", _("Exempt")
    NOT_SAT = "not_sat", _("Not yet sat")


class Band(models.TextChoices):
    BELOW = "below", _("Below the concern threshold")
    JUST_ABOVE = "just_above", _("Just above the concern threshold")
    ABOVE = "above", _("Above the concern threshold")


class ResultSet(StampedModel):
    """The results of one test at one school unit; `version` grows with every recomputation that
    changed a result, so an export or a letter can say which results it was made from."""

    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="result_sets"
    )
    test = models.ForeignKey(
        "exams.TestDefinition", on_delete=models.PROTECT, related_name="result_sets"
    )
    version = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school_unit", "test"], name="result_set_unique")
        ]


class _Result(models.Model):
    # Derived rows, written only by results_compute: a unit of 100,000 students writes 400,000
    # at once, so they carry one index (the unique constraint, which also serves lookups by
    # result set) and no foreign key checked by the database (400,000 checks at commit cost
    # more than the computation): the computation reads every id it writes from the tables
    # they point to, and the ORM removes the rows with their result set, person or subtest.
    result_set = models.ForeignKey(
        ResultSet, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    person = models.ForeignKey(
        "schools.Person",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    points = models.PositiveIntegerField(null=True, blank=True)
    max_points = models.PositiveIntegerField()
    complete = models.BooleanField(default=False)
    incomplete = models.CharField(max_length=20, choices=Incomplete.choices, blank=True)
    band = models.CharField(max_length=12, choices=Band.choices, blank=True)
    presence = models.CharField(max_length=10, choices=Presence.choices)
    version = models.PositiveIntegerField(default=0)  # the result set's version when it changed

    class Meta:
        abstract = True


class SubtestResult(_Result):
    subtest = models.ForeignKey(
        "exams.Subtest",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["result_set", "person", "subtest"], name="subtest_result_unique"
            )
        ]


class TestResult(_Result):
    __test__ = False  # not a pytest class

    grade = models.CharField(max_length=1, blank=True)
    needs_attention = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["result_set", "person"], name="test_result_unique")
        ]


# --- follow-up measures (tiltak) ----------------------------------------------------------------


class MeasureKind(StampedModel):
    """A kind of measure. Rows without an organiser are the platform's list; an organiser extends
    it with its own."""

    organiser = models.ForeignKey(
        "schools.Organiser", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organiser", "name"], name="measure_kind_unique", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return self.name


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    STARTED = "started", _("Started")
    ENDED = "ended", _("Ended")
    EVALUATED = "evaluated", _("Evaluated")


class Measure(StampedModel):
    """A follow-up measure for one student after a subtest result."""

    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="+"
    )
    person = models.ForeignKey("schools.Person", on_delete=models.CASCADE, related_name="measures")
    subtest = models.ForeignKey("exams.Subtest", on_delete=models.PROTECT, related_name="+")
    kind = models.ForeignKey(MeasureKind, on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField()
    responsible = models.ForeignKey(
        "schools.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=MeasureStatus.choices, default=MeasureStatus.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["starts_on", "id"]
        indexes = [models.Index(fields=["school_unit", "subtest"])]


class FollowUpRequest(StampedModel):
    """The organiser asks its schools which measures they started after a test (or subtest)."""

    organiser = models.ForeignKey("schools.Organiser", on_delete=models.CASCADE, related_name="+")
    test = models.ForeignKey("exams.TestDefinition", on_delete=models.PROTECT, related_name="+")
    subtest = models.ForeignKey(
        "exams.Subtest", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    question = models.TextField()
    due_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-due_on", "-id"]


class FollowUpAnswer(StampedModel):
    """A school's answer: the counts from its recorded measures when it answered, and a note."""

    request = models.ForeignKey(FollowUpRequest, on_delete=models.CASCADE, related_name="answers")
    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="+"
    )
    counts = models.JSONField(default=dict)  # {"below": n, "just_above": n, "with_measures": n}
    note = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "school_unit"], name="follow_up_answer_unique"
            )
        ]


# --- exports made in the background ------------------------------------------------------------


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ExportJob(StampedModel):
    """A large export or a batch of letters made by a worker; only the requester may download it,
    until `expires_at`."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="+"
    )
    result_set = models.ForeignKey(ResultSet, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(
        "schools.TeachingGroup", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10)  # csv, xlsx, letters
    options = models.JSONField(default=dict, blank=True)  # letters: languages, just above
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="result-exports/", blank=True)
    expires_at = models.DateTimeField()
