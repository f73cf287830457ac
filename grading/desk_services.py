"""Writes of the assessor's desk besides a person's score (which is
grading.scoring_services.score_save): overriding a machine score, flagging a response for
discussion.

The caller has already looked the score up through grading.desk_selectors (so a response not
assigned to the actor never gets here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grading.hooks import scores_changed_notify
from grading.models import Score, ScoreFlag, ScoreSource
from grading.scoring_services import ScoreRefused, version_checked, whole_points
from provplattform.audit import AuditAction, audit_record
from provplattform.errors import Conflict

if TYPE_CHECKING:
    from schools.models import User


def _unit_of(score: Score):
    return score.attempt.sitting.school_unit


def score_override(*, actor: User, score: Score, points: Any, reason: str, version: Any) -> Score:
    """A person overrides a machine score, with a reason (kept in the audit)."""
    reason = (reason or "").strip()
    if not reason:
        raise ScoreRefused(_("Give a reason for overriding the machine score."))
    if score.source not in (ScoreSource.MACHINE, ScoreSource.OVERRIDE):
        raise ScoreRefused(_("Only a machine score is overridden."))
    new_points = whole_points(points, score.item.max_points)
    expected = version_checked(version)
    unit = _unit_of(score)
    with transaction.atomic():
        before = {"points": score.points, "source": score.source, "version": expected}
        now = timezone.now()
        updated = Score.objects.filter(pk=score.pk, version=expected).update(
            points=new_points,
            source=ScoreSource.OVERRIDE,
            assessed_by=actor,
            assessed_at=now,
            version=expected + 1,
            modified=now,
        )
        if not updated:
            raise Conflict()
        score.refresh_from_db()
        audit_record(
            actor=actor,
            action=AuditAction.SCORE_OVERRIDDEN,
            target=score,
            before=before,
            after={"points": new_points, "source": ScoreSource.OVERRIDE, "version": expected + 1},
            reason=reason[:2000],
            scope=unit,
        )
        scores_changed_notify(
            school_unit_id=unit.pk,
            subtest_ids=[score.item.subtest_id],
            person_ids=[score.attempt.person_id],
        )
    return score


def score_flag_set(*, actor: User, score: Score, flagged: bool) -> bool:
    """Mark (or unmark) a response for discussion; no change to its score."""
    if flagged:
        ScoreFlag.objects.get_or_create(score=score, defaults={"flagged_by": actor})
    else:
        ScoreFlag.objects.filter(score=score).delete()
    return flagged
