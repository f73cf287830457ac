"""Whether a unit's coming sittings are ready, and the checklist items someone acknowledges."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from exams import readiness, selectors
from exams.api.base import UnitView, room_param, validated
from exams.api.serializers import RefusalSerializer, SittingSerializer
from exams.preparation.rules import CHECKLIST_KEYS
from exams.preparation.sittings import checklist_acknowledge


class CheckItemSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The key to acknowledge it with.")
    label = serializers.CharField()
    ticked_by = serializers.CharField(allow_null=True)
    ticked_at = serializers.DateTimeField(allow_null=True)


class CheckSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    state = serializers.ChoiceField(choices=["green", "amber", "red"])
    detail = serializers.CharField()
    fix_url = serializers.CharField()
    items = CheckItemSerializer(many=True)


class SittingReadinessSerializer(serializers.Serializer):
    sitting = SittingSerializer()
    state = serializers.CharField()
    checks = CheckSerializer(many=True)


class AcknowledgeRequestSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=CHECKLIST_KEYS)
    sitting = serializers.UUIDField(required=False)


class ReadinessView(UnitView):
    @extend_schema(
        parameters=[OpenApiParameter("room", str)],
        responses=SittingReadinessSerializer(many=True),
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        room = room_param(request, school_unit)
        rows = readiness.unit_readiness(school_unit=school_unit, room=room)
        return Response(SittingReadinessSerializer(rows, many=True).data)


class AcknowledgeView(UnitView):
    @extend_schema(
        request=AcknowledgeRequestSerializer, responses={201: None, 400: RefusalSerializer}
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        values = validated(AcknowledgeRequestSerializer, request)
        sitting = None
        if values.get("sitting"):
            sitting = selectors.access_sitting(
                user=request.user, school_unit=school_unit, public_id=values["sitting"]
            )
        checklist_acknowledge(
            actor=request.user, school_unit=school_unit, sitting=sitting, key=values["key"]
        )
        return Response(status=status.HTTP_201_CREATED)
