"""REST API of the assessor's desk (thin: scope, validate, call a service).

Only the assessor a response is assigned to reads or scores it: anyone else, at any unit, gets
404 as for a missing one. A save with a stale version answers 409 with the newer score. On
PostgreSQL the save (PUT of one score) is usually answered by grading.score_route, in front of
Django, which hands any request it cannot acknowledge itself to DeskScoreView below.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from grading import desk_selectors as sel
from grading import desk_services, scoring_services
from grading.anonymity import student_code
from grading.models import Score
from schools.roles import Capability
from schools.selectors import access_school_unit


class DeskView(APIView):
    """The shape of every desk and second-marking operation: the unit where the caller holds
    `capability` (404 otherwise), then a validated body."""

    permission_classes = [permissions.IsAuthenticated]
    capability: Capability = Capability.ASSESS

    def unit(self, request, unit):
        return access_school_unit(user=request.user, public_id=unit, capability=self.capability)

    def valid(self, request, serializer_class: type[serializers.Serializer]) -> dict:
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)


class DeskRefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class DeskScoreSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    item = serializers.UUIDField(source="item.public_id")
    item_identifier = serializers.CharField(source="item.identifier")
    max_points = serializers.IntegerField(source="item.max_points")
    student_code = serializers.SerializerMethodField()
    points = serializers.IntegerField(allow_null=True)
    criteria_points = serializers.DictField(child=serializers.IntegerField())
    comment = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source
    version = serializers.IntegerField()
    assessed_at = serializers.DateTimeField(allow_null=True)

    def get_student_code(self, score: Score) -> str:
        return student_code(
            subtest_public_id=score.item.subtest.public_id,
            person_public_id=score.attempt.person.public_id,
        )


class DeskConflictSerializer(DeskRefusalSerializer):
    current = DeskScoreSerializer()


class DeskScoreSaveSerializer(serializers.Serializer):
    points = serializers.IntegerField(required=False, allow_null=True)
    criteria_points = serializers.DictField(
        child=serializers.IntegerField(), required=False, allow_null=True
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    version = serializers.IntegerField(min_value=0)


class DeskOverrideSerializer(serializers.Serializer):
    points = serializers.IntegerField(min_value=0)
    reason = serializers.CharField(max_length=2000)
    version = serializers.IntegerField(min_value=0)


class DeskFlagSerializer(serializers.Serializer):
    flagged = serializers.BooleanField()


FILTERS = [
    OpenApiParameter("item", str, description="An item's id."),
    OpenApiParameter("status", str, enum=["unassessed", "assessed"]),
    OpenApiParameter("flagged", bool),
]


class DeskScoreListView(DeskView):
    @extend_schema(
        summary="My queue: the responses assigned to me at the unit",
        parameters=FILTERS,
        responses={200: DeskScoreSerializer(many=True)},
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        filters = sel.QueueFilter.from_params(request.query_params)
        queue = sel.desk_queue(user=request.user, school_unit=school_unit, filters=filters)
        return Response(DeskScoreSerializer(queue[:1000], many=True).data)


def _progress(request, school_unit) -> dict:
    progress = sel.desk_progress(user=request.user, school_unit=school_unit)
    return {
        "progress": progress,
        "progress_text": _("%(done)s of %(total)s assessed")
        % {"done": progress["assessed"], "total": progress["total"]},
    }


class DeskScoreView(DeskView):
    @extend_schema(
        summary="One response assigned to me, with its score",
        responses={200: DeskScoreSerializer, 404: DeskRefusalSerializer},
    )
    def get(self, request, unit, score):
        school_unit = self.unit(request, unit)
        target = sel.access_assigned_score(
            user=request.user, school_unit=school_unit, public_id=score
        )
        return Response(DeskScoreSerializer(target).data)

    @extend_schema(
        summary="Score a response assigned to me (optimistic locking on version)",
        request=DeskScoreSaveSerializer,
        responses={
            200: DeskScoreSerializer,
            400: DeskRefusalSerializer,
            404: DeskRefusalSerializer,
            409: OpenApiResponse(
                DeskConflictSerializer, description="Saved by someone else first."
            ),
        },
    )
    def put(self, request, unit, score):
        school_unit = self.unit(request, unit)
        body = DeskScoreSaveSerializer(data=request.data)
        if not body.is_valid():
            # Someone else's score is not found, whatever the body says.
            sel.access_assigned_score(user=request.user, school_unit=school_unit, public_id=score)
            raise serializers.ValidationError(body.errors)
        data = body.validated_data
        try:
            saved = scoring_services.score_save(
                actor=request.user,
                score=Score(public_id=score),
                points=data.get("points"),
                criteria_points=data.get("criteria_points"),
                comment=data.get("comment", ""),
                version=data["version"],
                school_unit=school_unit,
            )
        except scoring_services.ScoreConflict as conflict:
            return Response(
                {
                    "detail": str(conflict),
                    "code": conflict.code,
                    "current": DeskScoreSerializer(conflict.current).data,
                },
                status=409,
            )
        return Response({**DeskScoreSerializer(saved).data, **_progress(request, school_unit)})


class DeskScoreFlagView(DeskView):
    @extend_schema(
        summary="Flag a response assigned to me for discussion, or remove the flag",
        request=DeskFlagSerializer,
        responses={200: DeskFlagSerializer, 404: DeskRefusalSerializer},
    )
    def post(self, request, unit, score):
        school_unit = self.unit(request, unit)
        target = sel.access_assigned_score(
            user=request.user, school_unit=school_unit, public_id=score
        )
        body = self.valid(request, DeskFlagSerializer)
        flagged = desk_services.score_flag_set(
            actor=request.user, score=target, flagged=body["flagged"]
        )
        return Response({"flagged": flagged})


class MachineScoreOverrideView(DeskView):
    capability = Capability.VIEW_STUDENTS

    @extend_schema(
        summary="Override a machine score, with a reason (the attempt's assessor or the lead)",
        request=DeskOverrideSerializer,
        responses={
            200: DeskScoreSerializer,
            400: DeskRefusalSerializer,
            404: DeskRefusalSerializer,
            409: DeskRefusalSerializer,
        },
    )
    def post(self, request, unit, score):
        school_unit = self.unit(request, unit)
        target = sel.access_overridable_score(
            user=request.user, school_unit=school_unit, public_id=score
        )
        body = self.valid(request, DeskOverrideSerializer)
        saved = desk_services.score_override(actor=request.user, score=target, **body)
        return Response(DeskScoreSerializer(saved).data)
