"""Writes on scores: machine scoring on submit, rescoring after a key correction, and a person's
save with optimistic locking.

Invariants:
- every submitted attempt has one Score per item of its subtest (unanswered items too);
- closed items carry a machine score (source MACHINE, assessed_by None); items a person assesses
  start with points None and source PERSON until an assessor saves them;
- machine (re)scoring only ever touches rows whose source is MACHINE: a person's score, an
  override or a decided score is never overwritten;
- every change bumps `version`, is audited ("score.*") and calls `scores_changed_notify` inside
  the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery.models import Attempt, AttemptStatus, Response
from exams.definitions.scoring import score_item
from exams.models import Item
from grading.criteria import criteria_of
from grading.distribution_services import plan_add_newcomers
from grading.hooks import scores_changed_notify
from grading.models import Score, ScoreSource
from provplattform.audit import AuditAction, audit_record, audit_record_many
from provplattform.errors import Conflict, NotFound, Refused
from schools.models import SchoolUnit
from schools.roles import Capability
from schools.selectors import scope_to_school_units

if TYPE_CHECKING:
    from schools.models import User

MAX_COMMENT = 5000


class ScoreConflict(Conflict):
    """A save based on an old version; `current` is the score as it now stands."""

    def __init__(self, message: object = "", *, current: Score):
        super().__init__(message)
        self.current = current


def score_state(score: Score) -> dict[str, Any]:
    """What an audit row and a conflict answer show of a score."""
    return {
        "points": score.points,
        "criteria_points": score.criteria_points,
        "comment": score.comment,
        "source": score.source,
        "version": score.version,
    }


# --- machine scoring ------------------------------------------------------------------------


def attempt_score(*, attempt: Attempt) -> list[Score]:
    """Create (or refresh) the scores of a submitted attempt. Called inside the submit's
    transaction; a reopened and resubmitted attempt is rescored, persons' scores stay."""
    attempt = Attempt.objects.select_related("sitting__school_unit").get(pk=attempt.pk)
    if attempt.status != AttemptStatus.SUBMITTED:
        return []
    items = list(Item.objects.filter(subtest_id=attempt.sitting.subtest_id).order_by("position"))
    contents = dict(Response.objects.filter(attempt=attempt).values_list("item_id", "content"))
    existing = {s.item_id: s for s in Score.objects.select_for_update().filter(attempt=attempt)}
    now = timezone.now()
    new: list[Score] = []
    changed: list[Score] = []
    for item in items:
        points = score_item(item, contents.get(item.pk))
        score = existing.get(item.pk)
        if score is None:
            machine = points is not None
            new.append(
                Score(
                    attempt=attempt,
                    item=item,
                    points=points,
                    source=ScoreSource.MACHINE if machine else ScoreSource.PERSON,
                    assessed_at=now if machine else None,
                )
            )
        elif score.source == ScoreSource.MACHINE and points is not None and score.points != points:
            score.points = points
            score.assessed_at = now
            score.version += 1
            changed.append(score)
    Score.objects.bulk_create(new)
    if changed:
        Score.objects.bulk_update(changed, ["points", "assessed_at", "version", "modified"])
    machine_total = sum(
        s.points or 0 for s in [*new, *existing.values()] if s.source == ScoreSource.MACHINE
    )
    audit_record(
        actor=None,
        action=AuditAction.SCORE_MACHINE,
        target=attempt,
        after={"machine_points": machine_total, "created": len(new), "changed": len(changed)},
        scope=attempt.sitting.school_unit,
    )
    scores_changed_notify(
        school_unit_id=attempt.sitting.school_unit_id,
        subtest_ids=[attempt.sitting.subtest_id],
        person_ids=[attempt.person_id],
    )
    return new + changed


def on_attempt_submitted(attempt: Attempt) -> None:
    """delivery's submit subscriber: score, then give a late student's responses to assessors."""
    attempt_score(attempt=attempt)
    plan_add_newcomers(attempt=attempt)


def item_rescore(*, actor, item: Item, reason: str = "") -> int:
    """After the operator corrected an item's key or points: recompute every machine score of it.

    One audit row per changed score; persons' scores are left alone. Returns how many changed.
    """
    if not item.is_machine_scored:
        return 0
    scores = list(
        Score.objects.select_for_update()
        .filter(item=item, source=ScoreSource.MACHINE)
        .select_related("attempt__sitting")
    )
    contents = dict(
        Response.objects.filter(
            item=item, attempt_id__in=[s.attempt_id for s in scores]
        ).values_list("attempt_id", "content")
    )
    now = timezone.now()
    changed: list[Score] = []
    events: list[dict[str, Any]] = []
    for score in scores:
        points = score_item(item, contents.get(score.attempt_id))
        if points is None or points == score.points:
            continue
        before = score_state(score)
        score.points = points
        score.assessed_at = now
        score.version += 1
        changed.append(score)
        events.append(
            {
                "actor": actor,
                "action": AuditAction.SCORE_RESCORE,
                "target": score,
                "before": before,
                "after": score_state(score),
                "reason": reason,
            }
        )
    if not changed:
        return 0
    Score.objects.bulk_update(changed, ["points", "assessed_at", "version", "modified"])
    _attach_scopes(changed, events)
    audit_record_many(events)
    _notify(changed)
    return len(changed)


def _attach_scopes(scores: list[Score], events: list[dict[str, Any]]) -> None:
    unit_ids = {s.attempt.sitting.school_unit_id for s in scores}
    public = dict(SchoolUnit.objects.filter(pk__in=unit_ids).values_list("pk", "public_id"))
    for score, event in zip(scores, events, strict=True):
        event["scope"] = public.get(score.attempt.sitting.school_unit_id)


def _notify(scores: Iterable[Score]) -> None:
    by_unit: dict[int, tuple[set[int], set[int]]] = {}
    for score in scores:
        sitting = score.attempt.sitting
        subtests, persons = by_unit.setdefault(sitting.school_unit_id, (set(), set()))
        subtests.add(sitting.subtest_id)
        persons.add(score.attempt.person_id)
    for unit_id, (subtests, persons) in by_unit.items():
        scores_changed_notify(school_unit_id=unit_id, subtest_ids=subtests, person_ids=persons)


def on_item_key_corrected(*, actor, item: Item, reason: str, **_: Any) -> None:
    """exams' key-correction hook: rescore inside the correction's transaction."""
    item_rescore(actor=actor, item=item, reason=reason)


# --- a person's save ------------------------------------------------------------------------


class ScoreRefused(Refused):
    code = "score_refused"


def _refused(message: str, code: str) -> ScoreRefused:
    return ScoreRefused(message, code=code)


def points_checked(
    *, score_item: Item, points: Any, criteria_points: dict | None
) -> tuple[int, dict[str, int]]:
    """Validated (points, criteria_points) for an item: whole points from 0 to the maximum,
    per criterion where the item's guide has criteria (the item's points are then their sum).
    Criteria the guide does not name are refused, for an item without criteria too."""
    if not isinstance(criteria_points or {}, dict):
        raise _refused(_("Give points per criterion as whole numbers."), "bad_criteria")
    criteria = criteria_of(score_item.scoring_criteria, max_points=score_item.max_points)
    given = {str(k): v for k, v in (criteria_points or {}).items()}
    unknown = set(given) - {c.key for c in criteria}
    if unknown:
        raise _refused(
            _("Unknown criterion: %s.") % ", ".join(sorted(unknown)), "unknown_criterion"
        )
    if criteria and given:
        checked: dict[str, int] = {}
        for criterion in criteria:
            if criterion.key not in given:
                raise _refused(_("Give points for every criterion."), "criteria_missing")
            checked[criterion.key] = whole_points(given[criterion.key], criterion.max_points)
        total = sum(checked.values())
        if points not in (None, "") and whole_points(points, score_item.max_points) != total:
            raise _refused(_("The points must be the sum of the criteria's points."), "bad_sum")
        return total, checked
    return whole_points(points, score_item.max_points), {}


def whole_points(value: Any, maximum: int) -> int:
    if value is None or value == "":
        raise _refused(_("Give the points."), "points_required")
    if isinstance(value, bool):
        raise _refused(_("Points must be a whole number."), "bad_points")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError) as exc:
        raise _refused(_("Points must be a whole number."), "bad_points") from exc
    if not 0 <= number <= maximum:
        raise _refused(
            _("Points must be between 0 and %(max)s.") % {"max": maximum}, "points_out_of_range"
        )
    return number


def version_checked(value: Any) -> int:
    """The version a form or request was read at, as a number."""
    if isinstance(value, bool):
        raise _refused(_("The form is out of date; reload the response."), "bad_version")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _refused(_("The form is out of date; reload the response."), "bad_version") from exc


def save_refusal(*, source: str, version: int, expected: int) -> str | None:
    """Why a person's save of a score in this state is refused before its points are looked at:
    "machine" (a machine score changes only by an override with a reason), "decided" (the lead
    decided it after second marking), "conflict" (saved by someone else since), or None."""
    if source == ScoreSource.MACHINE:
        return "machine"
    if source == ScoreSource.DECIDED:
        return "decided"
    if expected != version:
        return "conflict"
    return None


def score_save(
    *,
    actor: User,
    score: Score,
    points: Any,
    criteria_points: dict | None,
    comment: str,
    version: Any,
    school_unit: SchoolUnit | None = None,
) -> Score:
    """An assessor's save of a score assigned to them (`score` may be unsaved, naming the score
    by its public id). The one write of a person's score, whoever calls it.

    Anyone but the assigned assessor (who still holds ASSESS at the unit) gets NotFound, exactly
    as for a missing score. A machine score is refused (it is overridden, with a reason:
    `desk_services.score_override`), and so is a score the lead decided after second marking.
    A save based on an older version is refused with ScoreConflict carrying the score as it now
    stands, so two people never silently overwrite each other. Points go from 0 to the item's
    maximum, per criterion where the item's guide has criteria (`points_checked`). Audited
    (`score.save`, from and to); the results hear of it after commit.
    """
    person_id = getattr(actor, "person_id", None)
    if person_id is None:
        raise NotFound()
    # One locked read that is also the permission check: the score, assigned to the actor, at a
    # unit where they hold ASSESS (and at `school_unit`, when the caller came through one).
    lookup = {"pk": score.pk} if score.pk is not None else {"public_id": score.public_id}
    scoped = scope_to_school_units(
        Score.objects.filter(grading_assignment__assessor_id=person_id, **lookup),
        user=actor,
        capability=Capability.ASSESS,
        path="attempt__sitting__school_unit",
    )
    if school_unit is not None:
        scoped = scoped.filter(attempt__sitting__school_unit=school_unit)
    with transaction.atomic():
        try:
            score = (
                scoped.select_for_update(of=("self",))
                .select_related("item__subtest", "attempt__sitting__school_unit", "attempt__person")
                .get()
            )
        except (Score.DoesNotExist, ValidationError, ValueError) as exc:
            raise NotFound() from exc
        unit = score.attempt.sitting.school_unit
        refusal = save_refusal(
            source=score.source, version=score.version, expected=version_checked(version)
        )
        if refusal == "machine":
            raise _refused(
                _("A machine score is changed by overriding it, with a reason."), "machine_score"
            )
        if refusal == "decided":
            raise _refused(_("The lead decided this score after second marking."), "decided")
        if refusal == "conflict":
            raise ScoreConflict(
                _("Someone else saved this score in the meantime; the newer score is shown."),
                current=score,
            )
        points, criteria = points_checked(
            score_item=score.item, points=points, criteria_points=criteria_points
        )
        before = score_state(score)
        score.points = points
        score.criteria_points = criteria
        score.comment = (comment or "")[:MAX_COMMENT]
        score.source = ScoreSource.PERSON
        score.assessed_by = actor
        score.assessed_at = timezone.now()
        score.version += 1
        score.save(
            update_fields=[
                "points",
                "criteria_points",
                "comment",
                "source",
                "assessed_by",
                "assessed_at",
                "version",
                "modified",
            ]
        )
        audit_record(
            actor=actor,
            action=AuditAction.SCORE_SAVE,
            target=score,
            before=before,
            after=score_state(score),
            scope=unit.public_id,
        )
        scores_changed_notify(
            school_unit_id=unit.pk,
            subtest_ids=[score.attempt.sitting.subtest_id],
            person_ids=[score.attempt.person_id],
        )
        return score
