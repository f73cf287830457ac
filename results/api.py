"""REST API of results (thin: scope through results.visibility, read through selectors).

A unit, test, group or student outside the caller's results scope answers 404, as a missing one.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from results import selectors, visibility


class ResultSetSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    test = serializers.CharField(source="test.title")
    test_code = serializers.CharField(source="test.code")
    version = serializers.IntegerField()
    computed_at = serializers.DateTimeField(allow_null=True)


class SubtestCellSerializer(serializers.Serializer):
    subtest = serializers.CharField(source="subtest.code")
    points = serializers.IntegerField(allow_null=True)
    max_points = serializers.IntegerField()
    complete = serializers.BooleanField()
    incomplete = serializers.CharField()
    presence = serializers.CharField()
    band = serializers.CharField()


class StudentRowSerializer(serializers.Serializer):
    student = serializers.CharField(source="public_id")
    name = serializers.CharField()
    points = serializers.IntegerField(allow_null=True)
    max_points = serializers.IntegerField()
    complete = serializers.BooleanField()
    incomplete = serializers.CharField()
    presence = serializers.CharField()
    grade = serializers.CharField()
    band = serializers.CharField()
    needs_attention = serializers.BooleanField()
    measures = serializers.IntegerField()
    subtests = SubtestCellSerializer(many=True)


class ResultTableSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    test = serializers.CharField()
    students = StudentRowSerializer(many=True)


class ResultSetListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=ResultSetSerializer(many=True), summary="Tests with results")
    def get(self, request, unit):
        scope = visibility.access_results(user=request.user, unit_public_id=unit)
        return Response(ResultSetSerializer(selectors.result_sets_of(scope=scope), many=True).data)


class ResultTableView(APIView):
    """One test's results: the whole unit, or ?group= / ?student= within the caller's scope."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=ResultTableSerializer,
        parameters=[
            OpenApiParameter("group", str, required=False),
            OpenApiParameter("student", str, required=False),
        ],
        summary="Results of one test",
    )
    def get(self, request, unit, result_set):
        scope = visibility.access_results(user=request.user, unit_public_id=unit)
        result_set = selectors.access_result_set(scope=scope, public_id=result_set)
        group = person = None
        if request.query_params.get("group"):
            group = visibility.access_group(
                scope=scope, group_public_id=request.query_params["group"]
            )
        elif request.query_params.get("student"):
            person = visibility.access_student(
                scope=scope, person_public_id=request.query_params["student"]
            )
        else:
            scope = visibility.access_unit_results(user=request.user, unit_public_id=unit)
        table = selectors.result_table(
            scope=scope, result_set=result_set, group=group, person=person
        )
        return Response(
            ResultTableSerializer(
                {"version": result_set.version, "test": table.test.title, "students": table.rows}
            ).data
        )
