"""The one way to write an audit row."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import TYPE_CHECKING, Any

from django.db import models

from provplattform.bulk import ORM_BATCH
from provplattform.models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


class AuditAction(models.TextChoices):
    """Every kind of audit row; the stored value is the string, so old rows read the same."""

    ADJUSTMENT_CHANGE = "adjustment.change"
    ADJUSTMENT_CHANGE_ON_DAY = "adjustment.change_on_day"
    ADJUSTMENT_CREATE = "adjustment.create"
    ADJUSTMENT_LOCK = "adjustment.lock"
    ADJUSTMENT_REMOVE = "adjustment.remove"

    ANNOUNCEMENT_POST = "announcement.post"
    ANNOUNCEMENT_RESOLVE = "announcement.resolve"

    API_TOKEN_CREATE = "api_token.create"
    API_TOKEN_REVOKE = "api_token.revoke"

    ASSIGNMENT_CREATE = "assignment.create"
    ASSIGNMENT_KEPT_ON_OLD_VERSION = "assignment.kept_on_old_version"
    ASSIGNMENT_MOVE = "assignment.move"
    ASSIGNMENT_NEW_VERSION = "assignment.new_version"
    ASSIGNMENT_REMOVE = "assignment.remove"

    ATTEMPT_ADD_TIME = "attempt.add_time"
    ATTEMPT_ARRIVED_AFTER_ABSENT = "attempt.arrived_after_absent"
    ATTEMPT_AUTO_SUBMIT = "attempt.auto_submit"
    ATTEMPT_CLOSING_SUBMIT = "attempt.closing_submit"
    ATTEMPT_DEVICE_SWITCH = "attempt.device_switch"
    ATTEMPT_EXTENDED_TIME_CHANGE = "attempt.extended_time_change"
    ATTEMPT_MARK_ABSENT = "attempt.mark_absent"
    ATTEMPT_PAUSE = "attempt.pause"
    ATTEMPT_PROCTOR_SUBMIT = "attempt.proctor_submit"
    ATTEMPT_RELEASE = "attempt.release"
    ATTEMPT_REOPEN = "attempt.reopen"
    ATTEMPT_RESUME = "attempt.resume"
    ATTEMPT_START = "attempt.start"
    ATTEMPT_SUBMIT = "attempt.submit"
    ATTEMPT_TIME_GIVEN_BACK = "attempt.time_given_back"

    CHECKLIST_ACKNOWLEDGE = "checklist.acknowledge"

    DAY_PASSWORD_CREATE = "day_password.create"

    DEFINITION_CREATE = "definition.create"
    DEFINITION_ITEM_CREATE = "definition.item_create"
    DEFINITION_ITEM_DELETE = "definition.item_delete"
    DEFINITION_ITEM_UPDATE = "definition.item_update"
    DEFINITION_NEW_VERSION = "definition.new_version"
    DEFINITION_PUBLISH = "definition.publish"
    DEFINITION_RETIRE = "definition.retire"
    DEFINITION_SUBTEST_FREEZE = "definition.subtest_freeze"
    DEFINITION_SUBTEST_UPDATE = "definition.subtest_update"
    DEFINITION_UPDATE = "definition.update"

    EXEMPTION_CREATE = "exemption.create"
    EXEMPTION_REMOVE = "exemption.remove"

    GROUP_TEACHER_REMOVE = "group.teacher_remove"

    LOGIN_LOCKED = "login.locked"

    ORGANISER_CREATE = "organiser.create"

    PAPER_REPLACEMENT_RECORD = "paper_replacement.record"

    PASSWORD_RESET = "password.reset"

    PERSON_REMOVE = "person.remove"

    PLATFORM_ROLE_GRANT = "platform_role.grant"

    REGISTRATION_CREATE = "registration.create"
    REGISTRATION_NEW_VERSION = "registration.new_version"

    ROLE_ASSIGN = "role.assign"
    ROLE_REMOVE = "role.remove"
    ROLE_REVOKE_ALL = "role.revoke_all"
    ROLE_TRANSFER_SYNC = "role.transfer_sync"

    ROOM_CREATE = "room.create"
    ROOM_DELETE = "room.delete"

    SITTING_CREATE = "sitting.create"
    SITTING_END = "sitting.end"
    SITTING_LOGIN_SLIPS_ISSUE = "sitting.login_slips_issue"
    SITTING_NEW_VERSION = "sitting.new_version"
    SITTING_POSTPONE = "sitting.postpone"
    SITTING_PROCTOR_ADD = "sitting.proctor_add"
    SITTING_PROCTOR_REMOVE = "sitting.proctor_remove"
    SITTING_RESULT_ENTERER = "sitting.result_enterer"
    SITTING_STUDENT_ADD = "sitting.student_add"
    SITTING_STUDENT_REMOVE = "sitting.student_remove"

    STUDENT_LOGIN_LOCKED = "student_login.locked"
    STUDENT_LOGIN_UNLOCK = "student_login.unlock"

    USER_CREATE = "user.create"

    # After the sitting: grading, results and follow-up.
    DEFINITION_ITEM_KEY_CORRECT = "definition.item_key_correct"

    FOLLOW_UP_ANSWERED = "follow_up.answered"
    FOLLOW_UP_REQUESTED = "follow_up.requested"

    GRADING_ASSIGN_LATE = "grading.assign_late"
    GRADING_DISTRIBUTE = "grading.distribute"
    GRADING_DUE_DATE = "grading.due_date"
    GRADING_REDISTRIBUTE = "grading.redistribute"
    GRADING_REMINDER = "grading.reminder"

    MEASURE_KIND_ADDED = "measure.kind_added"
    MEASURE_RECORDED = "measure.recorded"
    MEASURE_STATUS_CHANGED = "measure.status_changed"

    RESULTS_COMPUTED = "results.computed"
    RESULTS_EXPORTED = "results.exported"
    RESULTS_LETTERS_GENERATED = "results.letters_generated"

    SCORE_DECIDED = "score.decided"
    SCORE_ENTRY_IMPORT_APPLIED = "score.entry_import_applied"
    SCORE_ENTRY_IMPORT_DISCARDED = "score.entry_import_discarded"
    SCORE_ENTRY_SAVED = "score.entry_saved"
    SCORE_MACHINE = "score.machine"
    SCORE_OVERRIDDEN = "score.overridden"
    SCORE_RESCORE = "score.rescore"
    SCORE_SAVE = "score.save"
    SCORE_SECOND_MARKED = "score.second_marked"
    SCORE_SECOND_MARKING_SAMPLED = "score.second_marking_sampled"

    @classmethod
    def of(cls, subject: str) -> list[AuditAction]:
        """Every action on one subject, e.g. `AuditAction.of("role")`: a query, not a prefix."""
        return [a for a in cls if a.value.split(".", 1)[0] == subject]


def plain(value: Any) -> Any:
    """`value` as JSON an auditor can read: a model instance as its public id (its primary key
    when it has none), ids and times as strings, collections element by element."""
    if isinstance(value, models.Model):
        return str(getattr(value, "public_id", None) or value.pk)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return value


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: AuditAction,
    target: models.Model,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    scope: Any = None,
) -> AuditEvent:
    """Append an audit event; `scope` is the school unit (object or public id) it belongs to, and
    `actor` who did it (None, or anyone not signed in, for the platform itself).
    `before` and `after` may hold model instances, ids and times: `plain` writes them down."""
    scope_id = getattr(scope, "public_id", scope)
    target_id = getattr(target, "public_id", None) or target.pk
    return AuditEvent.objects.create(
        # By id: this layer does not know the concrete user model.
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        action=action,
        scope=scope_id,
        target_type=target._meta.label,
        target_id=str(target_id),
        before=plain(before),
        after=plain(after),
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
                before=plain(event.get("before")),
                after=plain(event.get("after")),
                reason=event.get("reason", ""),
            )
        )
    AuditEvent.objects.bulk_create(rows, batch_size=ORM_BATCH)
