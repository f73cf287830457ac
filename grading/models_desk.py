"""Models of the assessor's desk: second marking, flags for discussion, and uploaded entry forms.

Imported at the end of grading.models, so `grading.models.SecondMarking` works as well.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from provplattform.models import StampedModel


class SecondMarking(StampedModel):
    """A second, blind score of a sampled response, to measure how well assessors agree.

    The second assessor never sees the first score, nor the first assessor this one. Where the
    two differ the lead decides; the decided points become the Score (source DECIDED) and the
    first assessor's points are kept here, so the agreement figures stay what they were.
    """

    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="+"
    )
    score = models.OneToOneField(
        "grading.Score", on_delete=models.CASCADE, related_name="second_marking"
    )
    assessor = models.ForeignKey(
        "schools.Person", on_delete=models.PROTECT, related_name="second_markings"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    points = models.PositiveSmallIntegerField(null=True, blank=True)
    criteria_points = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    assessed_at = models.DateTimeField(null=True, blank=True)
    # Kept when the decision replaces the first assessor's score.
    first_points = models.PositiveSmallIntegerField(null=True, blank=True)
    decided_points = models.PositiveSmallIntegerField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["school_unit", "assessor"])]


class ScoreFlag(models.Model):
    """An assessor marked a response for discussion (e.g. at the next co-assessment)."""

    score = models.OneToOneField("grading.Score", on_delete=models.CASCADE, related_name="flag")
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)


class EntryImportStatus(models.TextChoices):
    CHECKED = "checked", _("Checked, waiting for confirmation")
    APPLIED = "applied", _("Applied")
    DISCARDED = "discarded", _("Discarded")


class EntryImport(StampedModel):
    """An uploaded entry form, checked row by row; applied only when the uploader confirms."""

    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(
        "schools.TeachingGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=200, blank=True)
    # [{"row": 2, "person": <public id>, "subtest": <public id>, "points": 7}]
    rows = models.JSONField(default=list, blank=True)
    # [{"row": 3, "column": "points", "message": "..."}]
    problems = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=EntryImportStatus.choices, default=EntryImportStatus.CHECKED
    )
    applied_at = models.DateTimeField(null=True, blank=True)
