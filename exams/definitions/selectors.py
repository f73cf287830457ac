"""Reads of test definitions. Definitions are platform-level, not tenant data: the operator sees
every version in every state; school staff see published tests only (never answer keys)."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.urls import reverse

from exams.models import DefinitionStatus, ItemAsset, Subtest, TestDefinition
from provplattform.errors import NotFound, get_or_not_found
from schools.selectors import school_units_with_any_role


def is_operator(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_platform_operator)


def require_operator(user) -> None:
    """Operator pages answer 404 to everyone else, as if they did not exist."""
    if not is_operator(user):
        raise NotFound()


def asset_url(asset: ItemAsset) -> str:
    return reverse("exams-asset", kwargs={"asset": asset.public_id})


def asset_urls(test: TestDefinition) -> list[str]:
    return [asset_url(a) for a in ItemAsset.objects.filter(test=test)]


def operator_tests(*, user) -> QuerySet:
    require_operator(user)
    return TestDefinition.objects.annotate(subtest_count=Count("subtests")).order_by(
        "code", "-version"
    )


def access_operator_test(*, user, public_id) -> TestDefinition:
    require_operator(user)
    return get_or_not_found(TestDefinition.objects, public_id=public_id)


def operator_subtests(*, test: TestDefinition) -> QuerySet:
    return test.subtests.order_by("position").prefetch_related("items")


def may_see_published(user) -> bool:
    return is_operator(user) or (
        getattr(user, "is_authenticated", False) and school_units_with_any_role(user).exists()
    )


def published_tests(*, user) -> QuerySet:
    """Published tests for school staff (any unit) and the operator; nothing for others."""
    if not may_see_published(user):
        return TestDefinition.objects.none()
    return (
        TestDefinition.objects.filter(status=DefinitionStatus.PUBLISHED)
        .prefetch_related("subtests")
        .order_by("window_start", "title")
    )


def access_published_test(*, user, public_id) -> TestDefinition:
    return get_or_not_found(published_tests(user=user), public_id=public_id)


def next_version(code: str) -> tuple[int, TestDefinition | None]:
    latest = TestDefinition.objects.filter(code=code).order_by("-version").first()
    return (latest.version + 1 if latest else 1), latest


def subtest_is_frozen(subtest: Subtest) -> bool:
    return subtest.frozen_at is not None
