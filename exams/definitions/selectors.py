"""Reads of test definitions. Definitions are platform-level, not tenant data: the operator sees
every version in every state; school staff see published tests only (never answer keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

from django.db.models import Count, QuerySet
from django.urls import reverse

from exams.models import DefinitionStatus, ItemAsset, Subtest, TestDefinition
from provplattform.errors import NotFound, get_or_not_found
from schools.models import User
from schools.selectors import school_units_with_any_role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def is_operator(user: User | AnonymousUser | None) -> TypeGuard[User]:
    return isinstance(user, User) and user.is_platform_operator


def require_operator(user: User | AnonymousUser) -> User:
    """Operator pages answer 404 to everyone else, as if they did not exist."""
    if is_operator(user):
        return user
    raise NotFound()


def asset_url(asset: ItemAsset) -> str:
    return reverse("exams-asset", kwargs={"asset": asset.public_id})


def asset_urls(test: TestDefinition) -> list[str]:
    return [asset_url(a) for a in ItemAsset.objects.filter(test=test)]


def operator_tests(*, user: User | AnonymousUser) -> QuerySet:
    require_operator(user)
    return TestDefinition.objects.annotate(subtest_count=Count("subtests")).order_by(
        "code", "-version"
    )


def access_operator_test(*, user: User | AnonymousUser, public_id) -> TestDefinition:
    require_operator(user)
    return get_or_not_found(TestDefinition.objects, public_id=public_id)


def operator_subtests(*, test: TestDefinition) -> QuerySet:
    return test.subtests.order_by("position").prefetch_related("items")


def may_see_published(user: User | AnonymousUser) -> bool:
    return is_operator(user) or (
        isinstance(user, User) and school_units_with_any_role(user).exists()
    )


def published_tests(*, user: User | AnonymousUser) -> QuerySet:
    """Published tests for school staff (any unit) and the operator; nothing for others."""
    if not may_see_published(user):
        return TestDefinition.objects.none()
    return (
        TestDefinition.objects.filter(status=DefinitionStatus.PUBLISHED)
        .prefetch_related("subtests")
        .order_by("window_start", "title")
    )


def access_published_test(*, user: User | AnonymousUser, public_id) -> TestDefinition:
    return get_or_not_found(published_tests(user=user), public_id=public_id)


def next_version(code: str) -> tuple[int, TestDefinition | None]:
    latest = TestDefinition.objects.filter(code=code).order_by("-version").first()
    return (latest.version + 1 if latest else 1), latest


def subtest_is_frozen(subtest: Subtest) -> bool:
    return subtest.frozen_at is not None
