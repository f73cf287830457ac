"""Cross-app building blocks: stamped models with public ids, and the append-only audit trail."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class StampedModel(models.Model):
    """Public uuid for URLs and APIs (never the row id) plus created/modified stamps."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One change to something that matters for a student or a permission: who, when, before, after.

    Append-only: rows are never updated or deleted through the ORM.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=80, db_index=True)
    # School unit (public id) the change belongs to, so audit views can be scoped per tenant.
    scope = models.UUIDField(null=True, blank=True, db_index=True)
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=64, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit events are append-only.")
