"""Writes on test definitions: create, publish, retire, new version, freeze (edits are in
exams.definitions.edit_services).

Invariants (checked by exams.definitions.rules):
- only the platform operator writes definitions;
- a definition is valid after every write (the validator in exams.definitions.format);
- once a subtest is frozen (someone has started it), its items never change: corrections go
  into a new version of the test;
- a retired test is never edited or published again;
- every write is audited.
"""

from __future__ import annotations

import mimetypes
import posixpath
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exams.definitions.content import sanitise_html
from exams.definitions.problems import DefinitionInvalid, Problem
from exams.definitions.rules import DefinitionRefused, refuse_non_operator, require_valid
from exams.definitions.selectors import asset_url, next_version
from exams.models import DefinitionStatus, Item, ItemAsset, Subtest, TestDefinition
from exams.preparation.versions import assignments_follow_new_version
from provplattform.audit import AuditAction, audit_record

if TYPE_CHECKING:
    from schools.models import User

IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
# Listening parts: sounds the exam client plays with the item (exams.definitions.content).
AUDIO_TYPES = {
    "audio/mpeg",
    "audio/ogg",
    "audio/opus",
    "audio/wav",
    "audio/x-wav",
    "audio/mp4",
    "audio/aac",
}


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
    *, actor: User, spec: dict, assets: dict[str, bytes] | None = None, source: str = "definition"
) -> TestDefinition:
    """Create a draft test from a validated spec (exams.definitions.format.parse_definition).

    A code that exists already gets the next version, linked to the latest one.
    """
    refuse_non_operator(actor)
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
    require_valid(test)
    audit_record(
        actor=actor,
        action=AuditAction.DEFINITION_CREATE,
        target=test,
        after={**_summary(test), "source": source},
    )
    return test


# --- lifecycle --------------------------------------------------------------------------------


@transaction.atomic
def test_publish(*, actor: User, test: TestDefinition) -> TestDefinition:
    """Draft → published: from now on schools see it. The test must be valid.

    Publishing version N retires every older published version of the same code: from then on
    only version N is registered for, assigned and scheduled, and students who have not started
    the old version are moved to it (exams.preparation.versions.assignments_follow_new_version).
    """
    refuse_non_operator(actor)
    test = TestDefinition.objects.select_for_update().get(pk=test.pk)
    if test.status != DefinitionStatus.DRAFT:
        raise DefinitionRefused(_("Only a draft can be published."))
    if TestDefinition.objects.filter(
        code=test.code, status=DefinitionStatus.PUBLISHED, version__gt=test.version
    ).exists():
        raise DefinitionRefused(_("A newer version of this test is already published."))
    require_valid(test)
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
def test_retire(*, actor: User, test: TestDefinition) -> TestDefinition:
    """Withdraw a test: schools no longer see it. Results already made are kept."""
    refuse_non_operator(actor)
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
def test_new_version(*, actor: User, test: TestDefinition) -> TestDefinition:
    """Copy a test into a new draft version (version + 1, previous_version = the source).

    The copy has its own assets and unfrozen subtests; the source is left untouched, so
    attempts already made keep pointing at exactly what the students saw.
    """
    refuse_non_operator(actor)
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
