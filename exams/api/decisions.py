"""Decisions about one student's test: adjustments and exemptions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from exams import selectors
from exams.api.base import (
    REASON,
    REMOVED,
    UnitView,
    enrolled_students,
    optional_subtest,
    reason_of,
    removed,
    room_param,
    staff_person,
    validated,
)
from exams.api.serializers import PersonRefSerializer, RefusalSerializer
from exams.models import AdjustmentKind, ExemptionGround, Tool
from exams.preparation.decisions import (
    adjustment_remove,
    adjustment_set,
    exemption_create,
    exemption_remove,
)
from schools.roles import Capability

if TYPE_CHECKING:
    from exams.models import Subtest, TestDefinition
    from schools.models import Person, SchoolUnit


class AdjustmentSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    student = PersonRefSerializer(source="person", read_only=True)
    test = serializers.UUIDField(source="test.public_id", read_only=True)
    subtest = serializers.UUIDField(
        source="subtest.public_id", read_only=True, allow_null=True, default=None
    )
    extended_minutes = serializers.IntegerField(allow_null=True)
    extended_percent = serializers.IntegerField(allow_null=True)
    tools = serializers.ListField(child=serializers.CharField())
    other_kinds = serializers.ListField(child=serializers.CharField())
    decided_by = PersonRefSerializer(read_only=True)
    decided_on = serializers.DateField(allow_null=True)
    locked_at = serializers.DateTimeField(allow_null=True)


class AdjustmentRequestSerializer(serializers.Serializer):
    student = serializers.UUIDField()
    test = serializers.UUIDField()
    subtest = serializers.UUIDField(required=False, allow_null=True)
    # The page's limits (exams.forms.AdjustmentForm): a number beyond them is a 400, not a 500.
    extended_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=600
    )
    extended_percent = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=200
    )
    tools = serializers.ListField(child=serializers.ChoiceField(Tool.choices), required=False)
    other_kinds = serializers.ListField(
        child=serializers.ChoiceField(AdjustmentKind.choices), required=False
    )
    decided_by = serializers.UUIDField()
    decided_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ExemptionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    student = PersonRefSerializer(source="person")
    test = serializers.UUIDField(source="test.public_id")
    subtest = serializers.UUIDField(source="subtest.public_id", allow_null=True, default=None)
    ground = serializers.CharField()
    decision_reference = serializers.CharField()
    decided_by = PersonRefSerializer()
    decided_on = serializers.DateField(allow_null=True)


class ExemptionRequestSerializer(serializers.Serializer):
    student = serializers.UUIDField()
    test = serializers.UUIDField()
    subtest = serializers.UUIDField(required=False, allow_null=True)
    # Any string is accepted here so that the service refuses other grounds with its reason.
    ground = serializers.CharField(help_text=", ".join(ExemptionGround.values))
    decision_reference = serializers.CharField(allow_blank=True)
    attested_no_significance = serializers.BooleanField()
    decided_by = serializers.UUIDField()
    decided_on = serializers.DateField(required=False, allow_null=True)


def _decision_targets(
    request: Request, school_unit: SchoolUnit, values: dict[str, Any], capability: Capability
) -> tuple[TestDefinition, Subtest | None, Person]:
    """The test, optional subtest and student that an adjustment or exemption request names."""
    test = selectors.access_test(school_unit=school_unit, public_id=values["test"])
    subtest = optional_subtest(school_unit, values.get("subtest"))
    person = enrolled_students(request, school_unit, [values["student"]], capability)[0]
    return test, subtest, person


# --- adjustments --------------------------------------------------------------------------------


class AdjustmentListView(UnitView):
    capability = Capability.ENTER_ADJUSTMENTS

    @extend_schema(
        parameters=[OpenApiParameter("room", str)], responses=AdjustmentSerializer(many=True)
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        room = room_param(request, school_unit)
        rows = selectors.adjustments_for(user=request.user, school_unit=school_unit, room=room)
        return Response(AdjustmentSerializer(rows, many=True).data)

    @extend_schema(
        request=AdjustmentRequestSerializer,
        responses={200: AdjustmentSerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        values = validated(AdjustmentRequestSerializer, request)
        test, subtest, person = _decision_targets(request, school_unit, values, self.capability)
        adjustment = adjustment_set(
            actor=request.user,
            school_unit=school_unit,
            person=person,
            test=test,
            subtest=subtest,
            extended_minutes=values.get("extended_minutes"),
            extended_percent=values.get("extended_percent"),
            tools=values.get("tools", []),
            other_kinds=values.get("other_kinds", []),
            decided_by=staff_person(school_unit, values["decided_by"]),
            decided_on=values.get("decided_on"),
            note=values["note"],
            reason=values["reason"],
        )
        return Response(AdjustmentSerializer(adjustment).data)


class AdjustmentDetailView(UnitView):
    capability = Capability.ENTER_ADJUSTMENTS

    @extend_schema(parameters=[REASON], responses=REMOVED)
    def delete(self, request, unit, adjustment):
        school_unit = self.unit(request, unit)
        target = selectors.access_adjustment(
            user=request.user, school_unit=school_unit, public_id=adjustment
        )
        return removed(
            adjustment_remove,
            actor=request.user,
            adjustment=target,
            reason=reason_of(request),
        )


# --- exemptions ---------------------------------------------------------------------------------


class ExemptionListView(UnitView):
    capability = Capability.DECIDE_EXEMPTIONS

    @extend_schema(
        parameters=[OpenApiParameter("room", str)], responses=ExemptionSerializer(many=True)
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        room = room_param(request, school_unit)
        rows = selectors.exemptions_for(user=request.user, school_unit=school_unit, room=room)
        return Response(ExemptionSerializer(rows, many=True).data)

    @extend_schema(
        request=ExemptionRequestSerializer,
        responses={201: ExemptionSerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        values = validated(ExemptionRequestSerializer, request)
        test, subtest, person = _decision_targets(request, school_unit, values, self.capability)
        exemption = exemption_create(
            actor=request.user,
            school_unit=school_unit,
            person=person,
            test=test,
            subtest=subtest,
            ground=values["ground"],
            decision_reference=values["decision_reference"],
            attested_no_significance=values["attested_no_significance"],
            decided_by=staff_person(school_unit, values["decided_by"]),
            decided_on=values.get("decided_on"),
        )
        return Response(ExemptionSerializer(exemption).data, status=status.HTTP_201_CREATED)


class ExemptionDetailView(UnitView):
    capability = Capability.DECIDE_EXEMPTIONS

    @extend_schema(parameters=[REASON], responses=REMOVED)
    def delete(self, request, unit, exemption):
        school_unit = self.unit(request, unit)
        target = selectors.access_exemption(
            user=request.user, school_unit=school_unit, public_id=exemption
        )
        return removed(
            exemption_remove,
            actor=request.user,
            exemption=target,
            reason=reason_of(request),
        )
