"""Grading: the score that counts per item, how a subtest is distributed to assessors, and
points entered for whole subtests done outside the platform."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from provplattform.models import StampedModel


class ScoreSource(models.TextChoices):
    MACHINE = "machine", _("Machine")  # exams.definitions.scoring on submit; assessed_by is None
    PERSON = "person", _("Assessor")
    OVERRIDE = "override", _("Overridden")  # a person overrode a machine score, with a reason
    DECIDED = "decided", _("Decided")  # the lead's decision after second marking


class Score(StampedModel):
    """The score that counts for one item of one attempt.

    One row per (attempt, item), created for every item of the subtest when the attempt is
    submitted (also for unanswered items). `points` None means not assessed yet.
    """

    attempt = models.ForeignKey("delivery.Attempt", on_delete=models.PROTECT, related_name="scores")
    item = models.ForeignKey("exams.Item", on_delete=models.PROTECT, related_name="scores")
    points = models.PositiveSmallIntegerField(null=True, blank=True)
    criteria_points = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=ScoreSource.choices)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)  # optimistic locking: +1 on every change

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "item"], name="score_unique")]

    def __str__(self) -> str:
        return f"{self.attempt_id}:{self.item_id}={self.points}"


class DistributionMode(models.TextChoices):
    BY_STUDENT = "by_student", _("By student")
    BY_ITEM = "by_item", _("By item")
    MIXED = "mixed", _("Mixed")


class OwnGroups(models.TextChoices):
    ANY = "any", _("No preference")
    AVOID = "avoid", _("Avoid own groups' students")
    PREFER = "prefer", _("Prefer own groups' students")


class GradingPlan(StampedModel):
    """How one subtest is graded at one school unit."""

    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="grading_plans"
    )
    subtest = models.ForeignKey(
        "exams.Subtest", on_delete=models.PROTECT, related_name="grading_plans"
    )
    mode = models.CharField(
        max_length=12, choices=DistributionMode.choices, default=DistributionMode.BY_STUDENT
    )
    by_item_items = models.JSONField(default=list, blank=True)  # item public ids, MIXED mode
    own_groups = models.CharField(max_length=8, choices=OwnGroups.choices, default=OwnGroups.ANY)
    due_date = models.DateField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school_unit", "subtest"], name="grading_plan_unique")
        ]


class GradingAssignment(StampedModel):
    """Which assessor scores one person-graded Score. Never handed on by an assessor."""

    plan = models.ForeignKey(GradingPlan, on_delete=models.CASCADE, related_name="assignments")
    score = models.OneToOneField(Score, on_delete=models.CASCADE, related_name="grading_assignment")
    assessor = models.ForeignKey(
        "schools.Person", on_delete=models.PROTECT, related_name="grading_assignments"
    )


class EntrySource(models.TextChoices):
    OFF_PLATFORM = "off_platform", _("Outside the platform")
    PAPER = "paper", _("Paper replacement test")


class SubtestEntry(StampedModel):
    """Points entered for a whole subtest done outside the platform.

    Either an oral part (Subtest.on_platform False) or a paper replacement test
    (exams.PaperReplacement).
    """

    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="+"
    )
    person = models.ForeignKey(
        "schools.Person", on_delete=models.PROTECT, related_name="subtest_entries"
    )
    subtest = models.ForeignKey("exams.Subtest", on_delete=models.PROTECT, related_name="entries")
    points = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=12, choices=EntrySource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "subtest"], name="subtest_entry_unique")
        ]


from grading.models_desk import *  # noqa: E402, F403
