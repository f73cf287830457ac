"""Writes on test definitions: create, edit, publish, retire, new version, freeze.

Invariants:
- only the platform operator writes definitions;
- a definition is valid after every write (the validator in exams.definition_format);
- once a subtest is frozen (someone has started it), its items never change: corrections go
  into a new version of the test;
- a retired test is never edited or published again;
- every write is audited.
"""

from __future__ import annotations

import mimetypes
import posixpath
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.content import sanitise_html
from exams.definition_format import (
    DefinitionInvalid,
    Problem,
    check_test,
    parse_item,
)
from exams.definition_selectors import asset_url, asset_urls, is_operator, next_version
from exams.models import DefinitionStatus, Item, ItemAsset, Subtest, TestDefinition
from exams.preparation.versions import assignments_follow_new_version
from provplattform.audit import AuditAction, audit_record
from provplattform.errors import Refused

IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
# Listening parts: sounds the exam client plays with the item (exams.content).
AUDIO_TYPES = {
    "audio/mpeg",
    "audio/ogg",
    "audio/opus",
    "audio/wav",
    "audio/x-wav",
    "audio/mp4",
    "audio/aac",
}


class DefinitionRefused(Refused):
    """A write the rules forbid; the message says why."""


def _require_operator(actor) -> None:
    if not is_operator(actor):
        raise DefinitionRefused(_("Only the platform operator may change test definitions."))


def _require_editable(test: TestDefinition) -> None:
    if test.status == DefinitionStatus.RETIRED:
        raise DefinitionRefused(_("This test is retired and can no longer be changed."))


def _require_unfrozen(subtest: Subtest) -> None:
    if subtest.frozen_at is not None:
        raise DefinitionRefused(
            _(
                "Students have already sat %(subtest)s, so its items are frozen. "
                "Make a new version of the test to correct them."
            )
            % {"subtest": subtest.title}
        )


# What a student who has sat a subtest was measured against: never changed afterwards.
FROZEN_SUBTEST_FIELDS = {
    "max_points",
    "on_platform",
    "concern_threshold",
    "duration_minutes",
    "permitted_adjustments",
}
FROZEN_TEST_FIELDS = {
    "grade_boundaries",
    "grade_requirements",
    "concern_threshold",
    "grade",
    "window_start",
    "window_end",
}


def _require_fields_unfrozen(changes: dict, frozen_fields: set[str], subtests) -> None:
    touched = sorted(set(changes) & frozen_fields)
    if not touched:
        return
    for subtest in subtests:
        if subtest.frozen_at is not None:
            raise DefinitionRefused(
                _(
                    "Students have already sat %(subtest)s, so these settings are frozen: "
                    "%(fields)s. Make a new version of the test to correct them."
                )
                % {"subtest": subtest.title, "fields": ", ".join(touched)}
            )


def _check(test: TestDefinition) -> None:
    problems = check_test(test)
    if problems:
        raise DefinitionInvalid(problems)


def _summary(test: TestDefinition) -> dict:
    return {"code": test.code, "version": test.version, "status": test.status}


# --- create -----------------------------------------------------------------------------------


def _add_asset(test: TestDefinition, path: str, data: bytes) -> ItemAsset:
    content_type = mimetypes.guess_type(path)[0]
    if content_type not in IMAGE_TYPES | AUDIO_TYPES:
        raise DefinitionInvalid(
            [
                Problem(
                    f"assets.{path}",
                    _(
                        "Only PNG, JPEG, GIF and WebP images and MP3, Ogg, WAV, M4A and AAC"
                        " sounds are allowed."
                    ),
                )
            ]
        )
    asset = ItemAsset(test=test, path=path)
    asset.file.save(posixpath.basename(path), ContentFile(data), save=False)
    asset.save()
    return asset


def _create_items(subtest: Subtest, items: list[dict], rewrite: dict[str, str]) -> None:
    allowed = list(rewrite.values())
    for position, item in enumerate(items, start=1):
        Item.objects.create(
            subtest=subtest,
            position=position,
            identifier=item["identifier"],
            kind=item["kind"],
            max_points=item["max_points"],
            content_html=sanitise_html(item["html"], asset_urls=allowed, rewrite=rewrite),
            choices=[
                {
                    "id": c["id"],
                    "html": sanitise_html(c["html"], asset_urls=allowed, rewrite=rewrite),
                }
                for c in item["choices"]
            ],
            answer_key=item["answer_key"],
            scoring_criteria=item["scoring_criteria"],
            audio_plays=item.get("audio_plays"),
        )


@transaction.atomic
def test_create(
    *, actor, spec: dict, assets: dict[str, bytes] | None = None, source: str = "definition"
) -> TestDefinition:
    """Create a draft test from a validated spec (exams.definition_format.parse_definition).

    A code that exists already gets the next version, linked to the latest one.
    """
    _require_operator(actor)
    version, latest = next_version(spec["code"])
    test = TestDefinition.objects.create(
        code=spec["code"],
        version=version,
        previous_version=latest,
        programme=spec["programme"],
        title=spec["title"],
        subject=spec["subject"],
        grade=spec["grade"],
        period=spec["period"],
        mandatory=spec["mandatory"],
        window_start=spec["window_start"],
        window_end=spec["window_end"],
        registration_opens=spec["registration_opens"],
        registration_closes=spec["registration_closes"],
        assignment_opens_days_before=spec["assignment_opens_days_before"],
        grade_boundaries=spec["grade_boundaries"],
        grade_requirements=spec["grade_requirements"],
        concern_threshold=spec["concern_threshold"],
        lang=spec.get("lang", ""),
    )
    rewrite = {
        path: asset_url(_add_asset(test, path, data)) for path, data in (assets or {}).items()
    }
    for position, sub in enumerate(spec["subtests"], start=1):
        subtest = Subtest.objects.create(
            test=test,
            position=position,
            code=sub["code"],
            title=sub["title"],
            on_platform=sub["on_platform"],
            duration_minutes=sub["duration_minutes"],
            opens_at=sub["opens_at"],
            closes_at=sub["closes_at"],
            window_start=sub["window_start"],
            window_end=sub["window_end"],
            tools=sub["tools"],
            permitted_adjustments=sub["permitted_adjustments"],
            permitted_tools=sub["permitted_tools"],
            lang=sub.get("lang", ""),
            dictionary=sub.get("dictionary", []),
            concern_threshold=sub["concern_threshold"],
            max_points=sub["max_points"],
        )
        _create_items(subtest, sub["items"], rewrite)
    _check(test)
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_CREATE,
        target=test,
        after={**_summary(test), "source": source},
    )
    return test


# --- edit -------------------------------------------------------------------------------------

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
def test_update(*, actor, test: TestDefinition, changes: dict) -> TestDefinition:
    """Change test-level fields; the whole test must still be valid.

    Once any of its subtests is frozen, what results are judged by (grade boundaries, concern
    threshold), its grade and its window are frozen too: corrections make a new version.
    """
    _require_operator(actor)
    test = TestDefinition.objects.select_for_update().get(pk=test.pk)
    _require_editable(test)
    _require_fields_unfrozen(changes, FROZEN_TEST_FIELDS, test.subtests.all())
    before, after = _apply(test, changes, TEST_FIELDS)
    test.save()
    _check(test)
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_UPDATE,
        target=test,
        before=before,
        after=after,
    )
    return test


@transaction.atomic
def subtest_update(*, actor, subtest: Subtest, changes: dict) -> Subtest:
    """Change a subtest's settings.

    Once frozen, its points, where it is done, its concern threshold, duration and permitted
    adjustments are frozen with its items; opening hours, window and tools stay editable.
    """
    _require_operator(actor)
    subtest = Subtest.objects.select_for_update().select_related("test").get(pk=subtest.pk)
    _require_editable(subtest.test)
    _require_fields_unfrozen(changes, FROZEN_SUBTEST_FIELDS, [subtest])
    before, after = _apply(subtest, changes, SUBTEST_FIELDS)
    subtest.save()
    _check(subtest.test)
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
def item_update(*, actor, item: Item, raw: dict) -> Item:
    """Replace an item with `raw` (the item mapping of the definition format)."""
    _require_operator(actor)
    subtest = Subtest.objects.select_for_update().select_related("test").get(pk=item.subtest_id)
    _require_editable(subtest.test)
    _require_unfrozen(subtest)
    item = Item.objects.get(pk=item.pk)
    fields = _item_fields(raw, subtest, "item")
    before = {"max_points": item.max_points, "answer_key": item.answer_key}
    for key, value in fields.items():
        setattr(item, key, value)
    item.save()
    _check(subtest.test)
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_ITEM_UPDATE,
        target=item,
        before=before,
        after={"max_points": item.max_points, "answer_key": item.answer_key},
    )
    return item


@transaction.atomic
def item_create(*, actor, subtest: Subtest, raw: dict) -> Item:
    _require_operator(actor)
    subtest = Subtest.objects.select_for_update().select_related("test").get(pk=subtest.pk)
    _require_editable(subtest.test)
    _require_unfrozen(subtest)
    position = (
        subtest.items.order_by("-position").values_list("position", flat=True).first() or 0
    ) + 1
    item = Item.objects.create(
        subtest=subtest, position=position, **_item_fields(raw, subtest, "item")
    )
    _check(subtest.test)
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_ITEM_CREATE,
        target=item,
        after={"identifier": item.identifier},
    )
    return item


@transaction.atomic
def item_delete(*, actor, item: Item) -> None:
    _require_operator(actor)
    subtest = Subtest.objects.select_for_update().select_related("test").get(pk=item.subtest_id)
    _require_editable(subtest.test)
    _require_unfrozen(subtest)
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_ITEM_DELETE,
        target=item,
        before={"identifier": item.identifier},
    )
    item.delete()
    _check(subtest.test)


# --- lifecycle --------------------------------------------------------------------------------


@transaction.atomic
def test_publish(*, actor, test: TestDefinition) -> TestDefinition:
    """Draft → published: from now on schools see it. The test must be valid.

    Publishing version N retires every older published version of the same code: from then on
    only version N is registered for, assigned and scheduled, and students who have not started
    the old version are moved to it (exams.preparation.versions.assignments_follow_new_version).
    """
    _require_operator(actor)
    test = TestDefinition.objects.select_for_update().get(pk=test.pk)
    if test.status != DefinitionStatus.DRAFT:
        raise DefinitionRefused(_("Only a draft can be published."))
    if TestDefinition.objects.filter(
        code=test.code, status=DefinitionStatus.PUBLISHED, version__gt=test.version
    ).exists():
        raise DefinitionRefused(_("A newer version of this test is already published."))
    _check(test)
    test.status = DefinitionStatus.PUBLISHED
    test.published_at = timezone.now()
    test.published_by = actor
    test.save(update_fields=["status", "published_at", "published_by", "modified"])
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_PUBLISH,
        target=test,
        before={"status": DefinitionStatus.DRAFT},
        after=_summary(test),
    )
    older = TestDefinition.objects.select_for_update().filter(
        code=test.code, status=DefinitionStatus.PUBLISHED, version__lt=test.version
    )
    for old in older:
        old.status = DefinitionStatus.RETIRED
        old.save(update_fields=["status", "modified"])
        summary = assignments_follow_new_version(actor=actor, old=old, new=test)
        audit_record(
            actor=actor,
            action=AuditAction.DEFINITION_RETIRE,
            target=old,
            before={"status": DefinitionStatus.PUBLISHED},
            after={
                **_summary(old),
                "superseded_by": test.version,
                "moved": len(summary.changed),
                "kept": len(summary.refused),
            },
            reason="superseded",
        )
    return test


@transaction.atomic
def test_retire(*, actor, test: TestDefinition) -> TestDefinition:
    """Withdraw a test: schools no longer see it. Results already made are kept."""
    _require_operator(actor)
    test = TestDefinition.objects.select_for_update().get(pk=test.pk)
    if test.status == DefinitionStatus.RETIRED:
        raise DefinitionRefused(_("This test is already retired."))
    before = test.status
    test.status = DefinitionStatus.RETIRED
    test.save(update_fields=["status", "modified"])
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_RETIRE,
        target=test,
        before={"status": before},
        after=_summary(test),
    )
    return test


@transaction.atomic
def test_new_version(*, actor, test: TestDefinition) -> TestDefinition:
    """Copy a test into a new draft version (version + 1, previous_version = the source).

    The copy has its own assets and unfrozen subtests; the source is left untouched, so
    attempts already made keep pointing at exactly what the students saw.
    """
    _require_operator(actor)
    version, _latest = next_version(test.code)
    source = test
    copy = TestDefinition.objects.get(pk=source.pk)
    copy.pk = None
    copy.id = None
    copy._state.adding = True
    copy.public_id = None
    copy.version = version
    copy.previous_version = source
    copy.status = DefinitionStatus.DRAFT
    copy.published_at = None
    copy.published_by = None
    copy.public_id = TestDefinition._meta.get_field("public_id").get_default()
    copy.save()
    rewrite: dict[str, str] = {}
    for asset in ItemAsset.objects.filter(test=source):
        new = ItemAsset.objects.create(test=copy, path=asset.path, file=asset.file.name)
        rewrite[asset_url(asset)] = asset_url(new)
    allowed = list(rewrite.values())
    for subtest in source.subtests.order_by("position").prefetch_related("items"):
        items = list(subtest.items.all())
        subtest.pk = None
        subtest.id = None
        subtest._state.adding = True
        subtest.public_id = Subtest._meta.get_field("public_id").get_default()
        subtest.test = copy
        subtest.frozen_at = None
        subtest.save()
        for item in items:
            item.pk = None
            item.id = None
            item._state.adding = True
            item.public_id = Item._meta.get_field("public_id").get_default()
            item.subtest = subtest
            item.content_html = sanitise_html(
                item.content_html, asset_urls=allowed, rewrite=rewrite
            )
            item.choices = [
                {
                    "id": c["id"],
                    "html": sanitise_html(c["html"], asset_urls=allowed, rewrite=rewrite),
                }
                for c in item.choices
            ]
            item.save()
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_NEW_VERSION,
        target=copy,
        before=_summary(source),
        after=_summary(copy),
    )
    return copy


def subtest_freeze(*, subtest) -> None:
    """From the first start on, a subtest's items are frozen; corrections make a new version.

    Called by delivery inside its own transaction when the first attempt starts.
    """
    changed = Subtest.objects.filter(pk=subtest.pk, frozen_at__isnull=True).update(
        frozen_at=timezone.now()
    )
    if changed:
        audit_record(actor=None, action=AuditAction.DEFINITION_SUBTEST_FREEZE, target=subtest)
