"""The platform operator's correction of an answer key or an item's points after students sat it.

Unlike an edit (refused once a subtest is frozen), a correction changes only the key and the
points of one item, needs a reason, is audited, and tells the grading app (exams.hooks) so that
every affected machine score is recomputed in the same transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from exams.definitions.format_items import item_raw, parse_item
from exams.definitions.problems import DefinitionInvalid, Problems
from exams.definitions.rules import DefinitionRefused, refuse_non_operator
from exams.definitions.selectors import asset_urls
from exams.hooks import item_key_corrected_notify
from exams.models import Item, ItemKind, Subtest
from provplattform.audit import AuditAction, audit_record
from schools.models import User

if TYPE_CHECKING:
    pass

if TYPE_CHECKING:
    from schools.models import User


KEY_FIELDS = ("correct", "accepted", "value", "tolerance")


def _key_state(item: Item) -> dict[str, Any]:
    return {"answer_key": item.answer_key, "max_points": item.max_points}


def item_key_correct(*, actor: User, item: Item, key: dict, points: int, reason: str) -> Item:
    """Replace the answer key (`correct`, `accepted` or `value`/`tolerance`, as in the definition
    format) and the points of `item`; every affected machine score is rescored."""
    refuse_non_operator(actor)
    if not reason.strip():
        raise DefinitionRefused(_("Give a reason."), code="reason_required")
    with transaction.atomic():
        subtest = Subtest.objects.select_for_update().select_related("test").get(pk=item.subtest_id)
        item = Item.objects.select_for_update().get(pk=item.pk)
        if item.kind == ItemKind.EXTENDED_TEXT and any(key.get(f) for f in KEY_FIELDS):
            raise DefinitionRefused(_("An extended-text item is assessed by a person; no key."))
        raw = item_raw(item)
        for field in KEY_FIELDS:
            raw.pop(field, None)
            if field in key:
                raw[field] = key[field]
        raw["points"] = points
        # parse_item collects into a Problems it is given (a plain list would be copied).
        problems = Problems()
        parsed = parse_item(raw, "item", set(asset_urls(subtest.test)), problems)
        if problems:
            raise DefinitionInvalid(problems)
        before = _key_state(item)
        item.answer_key = parsed["answer_key"]
        item.max_points = parsed["max_points"]
        if _key_state(item) == before:
            return item
        item.save(update_fields=["answer_key", "max_points", "modified"])
        audit_record(
            actor=actor,
            action=AuditAction.DEFINITION_ITEM_KEY_CORRECT,
            target=item,
            before=before,
            after=_key_state(item),
            reason=reason,
        )
        item_key_corrected_notify(actor=actor, item=item, before=before, reason=reason)
        return item
