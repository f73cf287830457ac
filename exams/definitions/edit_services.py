"""Edits of a test definition: its settings, its subtests' settings and its items.

The rules (exams.definitions.rules) hold after each edit; every edit is audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from exams.definitions.content import sanitise_html
from exams.definitions.format_items import parse_item
from exams.definitions.problems import DefinitionInvalid, Problem
from exams.definitions.rules import (
    FROZEN_SUBTEST_FIELDS,
    FROZEN_TEST_FIELDS,
    DefinitionRefused,
    refuse_frozen,
    refuse_frozen_fields,
    refuse_non_operator,
    refuse_retired,
    require_valid,
)
from exams.definitions.selectors import asset_urls
from exams.models import Item, Subtest, TestDefinition
from provplattform.audit import AuditAction, audit_record

if TYPE_CHECKING:
    from schools.models import User


TEST_FIELDS = {
    "title",
    "subject",
    "grade",
    "period",
    "mandatory",
    "window_start",
    "window_end",
    "registration_opens",
    "registration_closes",
    "assignment_opens_days_before",
    "grade_boundaries",
    "grade_requirements",
    "concern_threshold",
}
SUBTEST_FIELDS = {
    "title",
    "on_platform",
    "duration_minutes",
    "opens_at",
    "closes_at",
    "window_start",
    "window_end",
    "tools",
    "permitted_adjustments",
    "permitted_tools",
    "concern_threshold",
    "max_points",
}


def _apply(obj, changes: dict, allowed: set[str]) -> tuple[dict, dict]:
    unknown = set(changes) - allowed
    if unknown:
        raise DefinitionRefused(
            _("These fields cannot be changed: %s.") % ", ".join(sorted(unknown))
        )
    before = {k: _plain(getattr(obj, k)) for k in changes}
    for key, value in changes.items():
        setattr(obj, key, value)
    return before, {k: _plain(v) for k, v in changes.items()}


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def test_update(*, actor: User, test: TestDefinition, changes: dict) -> TestDefinition:
    """Change test-level fields; the whole test must still be valid.

    Once any of its subtests is frozen, what results are judged by (grade boundaries, concern
    threshold), its grade and its window are frozen too: corrections make a new version.
    """
    refuse_non_operator(actor)
    test = TestDefinition.objects.select_for_update().get(pk=test.pk)
    refuse_retired(test)
    refuse_frozen_fields(changes, FROZEN_TEST_FIELDS, test.subtests.all())
    before, after = _apply(test, changes, TEST_FIELDS)
    test.save()
    require_valid(test)
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_UPDATE,
        target=test,
        before=before,
        after=after,
    )
    return test


@transaction.atomic
def subtest_update(*, actor: User, subtest: Subtest, changes: dict) -> Subtest:
    """Change a subtest's settings.

    Once frozen, its points, where it is done, its concern threshold, duration and permitted
    adjustments are frozen with its items; opening hours, window and tools stay editable.
    """
    refuse_non_operator(actor)
    subtest = Subtest.objects.select_for_update().select_related("test").get(pk=subtest.pk)
    refuse_retired(subtest.test)
    refuse_frozen_fields(changes, FROZEN_SUBTEST_FIELDS, [subtest])
    before, after = _apply(subtest, changes, SUBTEST_FIELDS)
    subtest.save()
    require_valid(subtest.test)
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_SUBTEST_UPDATE,
        target=subtest,
        before=before,
        after=after,
    )
    return subtest


def _item_fields(raw: dict, subtest: Subtest, path: str) -> dict:
    urls = asset_urls(subtest.test)
    problems: list[Problem] = []
    item = parse_item(raw, path, set(urls), problems)
    if problems:
        raise DefinitionInvalid(problems)
    return {
        "identifier": item["identifier"],
        "kind": item["kind"],
        "max_points": item["max_points"],
        "content_html": sanitise_html(item["html"], asset_urls=urls),
        "choices": [
            {"id": c["id"], "html": sanitise_html(c["html"], asset_urls=urls)}
            for c in item["choices"]
        ],
        "answer_key": item["answer_key"],
        "scoring_criteria": item["scoring_criteria"],
        "audio_plays": item.get("audio_plays"),
    }


@transaction.atomic
def item_update(*, actor: User, item: Item, raw: dict) -> Item:
    """Replace an item with `raw` (the item mapping of the definition format)."""
    refuse_non_operator(actor)
    subtest = Subtest.objects.select_for_update().select_related("test").get(pk=item.subtest_id)
    refuse_retired(subtest.test)
    refuse_frozen(subtest)
    item = Item.objects.get(pk=item.pk)
    fields = _item_fields(raw, subtest, "item")
    before = {"max_points": item.max_points, "answer_key": item.answer_key}
    for key, value in fields.items():
        setattr(item, key, value)
    item.save()
    require_valid(subtest.test)
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_ITEM_UPDATE,
        target=item,
        before=before,
        after={"max_points": item.max_points, "answer_key": item.answer_key},
    )
    return item


@transaction.atomic
def item_create(*, actor: User, subtest: Subtest, raw: dict) -> Item:
    refuse_non_operator(actor)
    subtest = Subtest.objects.select_for_update().select_related("test").get(pk=subtest.pk)
    refuse_retired(subtest.test)
    refuse_frozen(subtest)
    position = (
        subtest.items.order_by("-position").values_list("position", flat=True).first() or 0
    ) + 1
    item = Item.objects.create(
        subtest=subtest, position=position, **_item_fields(raw, subtest, "item")
    )
    require_valid(subtest.test)
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_ITEM_CREATE,
        target=item,
        after={"identifier": item.identifier},
    )
    return item


@transaction.atomic
def item_delete(*, actor: User, item: Item) -> None:
    refuse_non_operator(actor)
    subtest = Subtest.objects.select_for_update().select_related("test").get(pk=item.subtest_id)
    refuse_retired(subtest.test)
    refuse_frozen(subtest)
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_ITEM_DELETE,
        target=item,
        before={"identifier": item.identifier},
    )
    item.delete()
    require_valid(subtest.test)
