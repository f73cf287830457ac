"""Per-organiser API tokens for organiser systems. Only a sha256 hash is stored.

A token reads `pp_<prefix>_<secret>`; the prefix finds the row, the hash decides.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from provplattform.audit import AuditAction, audit_record
from schools.models import Organiser, OrganiserApiToken, User


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, organiser: Organiser, name: str, actor: User | None = None
) -> tuple[OrganiserApiToken, str]:
    """Create a token; the plain token is returned here once and never stored."""
    prefix = secrets.token_hex(4)
    plain = f"pp_{prefix}_{secrets.token_urlsafe(32)}"
    token = OrganiserApiToken.objects.create(
        organiser=organiser,
        name=name[:100],
        prefix=prefix,
        token_hash=_hash(plain),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor, action=AuditAction.API_TOKEN_CREATE, target=token, after={"name": token.name}
    )
    return token, plain


@transaction.atomic
def api_token_revoke(*, token: OrganiserApiToken, actor: User | None = None) -> None:
    """Revoke a token; requests with it are refused from now on."""
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "modified"])
    audit_record(
        actor=actor, action=AuditAction.API_TOKEN_REVOKE, target=token, before={"name": token.name}
    )


def api_token_authenticate(plain: str) -> OrganiserApiToken | None:
    """The live token matching `plain`, or None."""
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != "pp" or not parts[1]:
        return None
    digest = _hash(plain)
    for token in OrganiserApiToken.objects.filter(
        prefix=parts[1], revoked_at__isnull=True
    ).select_related("organiser"):
        if hmac.compare_digest(token.token_hash, digest):
            OrganiserApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
            return token
    return None
