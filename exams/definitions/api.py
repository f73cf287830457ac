"""Read-only API of published test definitions, and the operator's lifecycle actions.

School staff (anyone holding a role at some school unit) see published tests and their subtests
— never items or answer keys: the content of a test stays secret until it is sat. The platform
operator sees every version in every state and may create, publish, retire and make new versions.
Anyone else gets an empty list, and 404 for a single test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from exams.definitions import selectors, services
from exams.definitions.format import parse_definition
from exams.definitions.problems import DefinitionInvalid
from exams.definitions.rules import DefinitionRefused
from exams.models import TestDefinition
from provplattform.errors import get_or_not_found

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import QuerySet

    from schools.models import User


class SubtestSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    code = serializers.CharField()
    title = serializers.CharField()
    position = serializers.IntegerField()
    on_platform = serializers.BooleanField()
    duration_minutes = serializers.IntegerField()
    opens_at = serializers.TimeField()
    closes_at = serializers.TimeField()
    window_start = serializers.SerializerMethodField()
    window_end = serializers.SerializerMethodField()
    tools = serializers.ListField(child=serializers.CharField())
    permitted_adjustments = serializers.ListField(child=serializers.CharField())
    permitted_tools = serializers.ListField(child=serializers.CharField())
    concern_threshold = serializers.IntegerField(allow_null=True)
    max_points = serializers.SerializerMethodField()

    def get_window_start(self, subtest) -> str:
        return subtest.effective_window[0].isoformat()

    def get_window_end(self, subtest) -> str:
        return subtest.effective_window[1].isoformat()

    @extend_schema_field(serializers.IntegerField())
    def get_max_points(self, subtest) -> int:
        if not subtest.on_platform:
            return subtest.max_points or 0
        return sum(item.max_points for item in subtest.items.all())


class TestDefinitionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    code = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    programme = serializers.CharField()
    title = serializers.CharField()
    subject = serializers.CharField()
    grade = serializers.IntegerField()
    period = serializers.CharField()
    mandatory = serializers.BooleanField()
    window_start = serializers.DateField()
    window_end = serializers.DateField()
    registration_opens = serializers.DateField(allow_null=True)
    registration_closes = serializers.DateField(allow_null=True)
    grade_boundaries = serializers.DictField(child=serializers.IntegerField())
    concern_threshold = serializers.IntegerField(allow_null=True)
    subtests = serializers.SerializerMethodField()

    @extend_schema_field(SubtestSerializer(many=True))
    def get_subtests(self, test) -> list[dict]:
        # Sorted here, not in SQL: a list prefetches every test's subtests and items at once.
        subtests = sorted(test.subtests.all(), key=lambda subtest: subtest.position)
        return SubtestSerializer(subtests, many=True).data


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ProblemsSerializer(serializers.Serializer):
    detail = serializers.CharField()
    problems = serializers.ListField(child=serializers.CharField(), required=False)


def _queryset(user: User | AnonymousUser) -> QuerySet[TestDefinition]:
    if selectors.is_operator(user):
        return TestDefinition.objects.order_by("code", "-version")
    return selectors.published_tests(user=user)


def _get(user: User | AnonymousUser, public_id) -> TestDefinition:
    return get_or_not_found(_queryset(user), public_id=public_id)


class DefinitionListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=TestDefinitionSerializer(many=True))
    def get(self, request):
        tests = _queryset(request.user).prefetch_related("subtests__items")
        return Response(TestDefinitionSerializer(tests, many=True).data)

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={201: TestDefinitionSerializer, 400: ProblemsSerializer},
        description="Operator only: create a draft from a definition in the JSON format.",
    )
    def post(self, request):
        operator = selectors.require_operator(request.user)
        if not isinstance(request.data, dict):
            return Response({"detail": "Send one definition object.", "problems": []}, status=400)
        spec, problems = parse_definition(dict(request.data))
        if spec.get("assets"):
            problems.append("assets: images cannot be sent through this endpoint")
        if problems:
            return Response(
                {"detail": "The definition has problems.", "problems": [str(p) for p in problems]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        test = services.test_create(actor=operator, spec=spec)
        return Response(TestDefinitionSerializer(test).data, status=status.HTTP_201_CREATED)


class DefinitionDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=TestDefinitionSerializer)
    def get(self, request, test):
        return Response(TestDefinitionSerializer(_get(request.user, test)).data)


class _LifecycleView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    action_name = ""

    @extend_schema(
        request=None,
        responses={200: TestDefinitionSerializer, 400: ProblemsSerializer},
    )
    def post(self, request, test):
        definition = selectors.access_operator_test(user=request.user, public_id=test)
        action = getattr(services, self.action_name)
        try:
            result = action(actor=request.user, test=definition)
        except DefinitionRefused as exc:
            return Response({"detail": str(exc), "problems": []}, status=400)
        except DefinitionInvalid as exc:
            return Response(
                {"detail": "The test has problems.", "problems": [str(p) for p in exc.problems]},
                status=400,
            )
        return Response(TestDefinitionSerializer(result).data)


class DefinitionPublishView(_LifecycleView):
    action_name = "test_publish"


class DefinitionRetireView(_LifecycleView):
    action_name = "test_retire"


class DefinitionNewVersionView(_LifecycleView):
    action_name = "test_new_version"
