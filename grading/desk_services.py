"""Writes of the assessor's desk: scoring an assigned response, overriding a machine score,
flagging a response for discussion.

The caller has already looked the score up through grading.desk_selectors (so a response not
assigned to the actor never gets here). A person's score goes through
grading.scoring_services.score_save: optimistic locking on `version` (a stale version is a
Conflict and saves nothing), one audit row with before and after, the results hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grading.criteria import criteria_of
from grading.hooks import scores_changed_notify
from grading.models import Score, ScoreFlag, ScoreSource
from grading.scoring_services import score_save
from provplattform.audit import AuditAction, audit_record
from provplattform.errors import Conflict, Refused

if TYPE_CHECKING:
    from schools.models import User


class ScoreRefused(Refused):
    code = "score_refused"


def points_checked(
    *, score_item, points: Any, criteria_points: dict | None
) -> tuple[int, dict[str, int]]:
    """Validated (points, criteria_points) for an item: whole points from 0 to the maximum,
    per criterion where the item's guide has criteria (the item's points are then their sum)."""
    criteria = criteria_of(score_item.scoring_criteria, max_points=score_item.max_points)
    if criteria and criteria_points:
        given = {str(k): v for k, v in criteria_points.items()}
        unknown = set(given) - {c.key for c in criteria}
        if unknown:
            raise ScoreRefused(_("Unknown criterion: %s.") % ", ".join(sorted(unknown)))
        checked: dict[str, int] = {}
        for criterion in criteria:
            if criterion.key not in given:
                raise ScoreRefused(_("Give points for every criterion."))
            checked[criterion.key] = _whole(given[criterion.key], criterion.max_points)
        total = sum(checked.values())
        if points not in (None, "") and _whole(points, score_item.max_points) != total:
            raise ScoreRefused(_("The points must be the sum of the criteria's points."))
        return total, checked
    return _whole(points, score_item.max_points), {}


def _whole(value: Any, maximum: int) -> int:
    if isinstance(value, bool):
        raise ScoreRefused(_("Points must be a whole number."))
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError) as exc:
        raise ScoreRefused(_("Points must be a whole number.")) from exc
    if not 0 <= number <= maximum:
        raise ScoreRefused(_("Points must be between 0 and %(max)s.") % {"max": maximum})
    return number


def desk_score_save(
    *,
    actor: User,
    score: Score,
    points: Any,
    criteria_points: dict | None,
    comment: str,
    version: Any,
) -> Score:
    """The assigned assessor scores a response. A stale `version` is a Conflict and saves
    nothing; the caller shows the newer score."""
    if score.source == ScoreSource.MACHINE:
        raise ScoreRefused(_("A machine score is changed by overriding it, with a reason."))
    if score.source == ScoreSource.DECIDED:
        raise ScoreRefused(_("The lead decided this score after second marking."))
    total, per_criterion = points_checked(
        score_item=score.item, points=points, criteria_points=criteria_points
    )
    return score_save(
        actor=actor,
        score=score,
        points=total,
        criteria_points=per_criterion,
        comment=(comment or "")[:5000],
        version=_version(version),
    )


def _version(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ScoreRefused(_("The form is out of date; reload the response.")) from exc


def _unit_of(score: Score):
    return score.attempt.sitting.school_unit


def score_override(*, actor: User, score: Score, points: Any, reason: str, version: Any) -> Score:
    """A person overrides a machine score, with a reason (kept in the audit)."""
    reason = (reason or "").strip()
    if not reason:
        raise ScoreRefused(_("Give a reason for overriding the machine score."))
    if score.source not in (ScoreSource.MACHINE, ScoreSource.OVERRIDE):
        raise ScoreRefused(_("Only a machine score is overridden."))
    new_points = _whole(points, score.item.max_points)
    expected = _version(version)
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
