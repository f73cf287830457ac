"""Which students take which subtest: registrations of voluntary tests and assignments."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from exams import selectors
from exams.api.base import UnitView, optional_subtest, room_param, validated
from exams.api.serializers import PersonRefSerializer, RefusalSerializer, SummarySerializer
from exams.preparation.assignments import (
    assignment_remove,
    assignment_replace,
    assignments_create,
    assignments_create_for_grade,
    assignments_create_for_group,
    registration_create,
)


class RegistrationSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    test = serializers.UUIDField(source="test.public_id")
    test_title = serializers.CharField(source="test.title", read_only=True)
    created = serializers.DateTimeField(read_only=True)


class AssignmentSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    student = PersonRefSerializer(source="person")
    subtest = serializers.UUIDField(source="subtest.public_id")
    subtest_title = serializers.CharField(source="subtest.title")
    source = serializers.CharField()
    is_placed = serializers.BooleanField()
    is_exempt = serializers.BooleanField()


class AssignRequestSerializer(serializers.Serializer):
    subtest = serializers.UUIDField()
    students = serializers.ListField(child=serializers.UUIDField(), required=False)
    group = serializers.UUIDField(required=False)
    grade = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        chosen = [bool(attrs.get("students")), bool(attrs.get("group")), attrs.get("grade")]
        if sum(chosen) != 1:
            raise serializers.ValidationError(_("Give exactly one of students, group or grade."))
        return attrs


class CorrectRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    replacement = serializers.UUIDField(required=False)


# --- registrations ------------------------------------------------------------------------------


class RegistrationListView(UnitView):
    @extend_schema(responses=RegistrationSerializer(many=True))
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        rows = selectors.registrations_for(user=request.user, school_unit=school_unit)
        return Response(RegistrationSerializer(rows, many=True).data)

    @extend_schema(
        request=RegistrationSerializer,
        responses={201: RegistrationSerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        values = validated(RegistrationSerializer, request)
        test = selectors.access_test(school_unit=school_unit, public_id=values["test"]["public_id"])
        registration = registration_create(actor=request.user, school_unit=school_unit, test=test)
        return Response(RegistrationSerializer(registration).data, status=status.HTTP_201_CREATED)


# --- assignments --------------------------------------------------------------------------------


class AssignmentListView(UnitView):
    @extend_schema(
        parameters=[
            OpenApiParameter("subtest", str),
            OpenApiParameter("room", str),
            OpenApiParameter("unplaced", bool),
        ],
        responses=AssignmentSerializer(many=True),
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        subtest = optional_subtest(school_unit, request.query_params.get("subtest"))
        room = room_param(request, school_unit)
        rows = selectors.assignments_for(
            user=request.user,
            school_unit=school_unit,
            subtest=subtest,
            room=room,
            unplaced=request.query_params.get("unplaced") in ("1", "true"),
        )
        return Response(AssignmentSerializer(rows, many=True).data)

    @extend_schema(
        request=AssignRequestSerializer, responses={200: SummarySerializer, 400: RefusalSerializer}
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        values = validated(AssignRequestSerializer, request)
        subtest = selectors.access_subtest(school_unit=school_unit, public_id=values["subtest"])
        kwargs = {"actor": request.user, "school_unit": school_unit, "subtest": subtest}
        if values.get("group"):
            group = selectors.access_group(
                user=request.user, school_unit=school_unit, public_id=values["group"]
            )
            summary = assignments_create_for_group(group=group, **kwargs)
        elif values.get("grade"):
            summary = assignments_create_for_grade(**kwargs)
        else:
            # Unknown or foreign students go to the summary's refusals, not a 404.
            ids = [str(i) for i in values["students"]]
            found = selectors.persons_at(user=request.user, school_unit=school_unit, public_ids=ids)
            summary = assignments_create(persons=found, **kwargs)
            summary.refuse_unknown(ids, found)
        return Response(summary.as_dict())


class AssignmentCorrectView(UnitView):
    @extend_schema(request=CorrectRequestSerializer, responses={204: None, 400: RefusalSerializer})
    def post(self, request, unit, assignment):
        school_unit = self.unit(request, unit)
        target = selectors.access_assignment(
            user=request.user, school_unit=school_unit, public_id=assignment
        )
        values = validated(CorrectRequestSerializer, request)
        replacement = optional_subtest(school_unit, values.get("replacement"))
        if replacement is not None:
            assignment_replace(
                actor=request.user, assignment=target, subtest=replacement, reason=values["reason"]
            )
        else:
            assignment_remove(actor=request.user, assignment=target, reason=values["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)
