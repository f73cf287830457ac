"""The one way to write an audit row."""

from __future__ import annotations

from typing import Any

from django.db import models

from provplattform.models import AuditEvent


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    scope: Any = None,
) -> AuditEvent:
    """Append an audit event; `scope` is the school unit (object or public id) it belongs to."""
    scope_id = getattr(scope, "public_id", scope)
    target_id = getattr(target, "public_id", None) or target.pk
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        scope=scope_id,
        target_type=target._meta.label,
        target_id=str(target_id),
        before=before,
        after=after,
        reason=reason,
    )


def audit_record_many(events: list[dict[str, Any]]) -> None:
    """Append many audit events in one statement (bulk jobs such as the organiser's transfer).

    Each dict takes the keyword arguments of `audit_record`.
    """
    rows = []
    for event in events:
        actor, target, scope = event.get("actor"), event["target"], event.get("scope")
        rows.append(
            AuditEvent(
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                action=event["action"],
                scope=getattr(scope, "public_id", scope),
                target_type=target._meta.label,
                target_id=str(getattr(target, "public_id", None) or target.pk),
                before=event.get("before"),
                after=event.get("after"),
                reason=event.get("reason", ""),
            )
        )
    AuditEvent.objects.bulk_create(rows, batch_size=1000)
