"""REST API of follow-up measures and the organiser's follow-up requests (thin)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from exams.models import Subtest, TestDefinition
from provplattform.lookup import get_by_public_id
from results import measures, visibility
from results.models import MeasureStatus


class MeasureSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    student = serializers.UUIDField(source="person.public_id", read_only=True)
    subtest_id = serializers.UUIDField(source="subtest.public_id", read_only=True)
    kind_name = serializers.CharField(source="kind.name", read_only=True)
    starts_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True)
    status = serializers.CharField(read_only=True, help_text="planned, started, ended, evaluated")


class MeasureCreateSerializer(serializers.Serializer):
    student = serializers.UUIDField()
    subtest = serializers.UUIDField()
    kind = serializers.UUIDField()
    starts_on = serializers.DateField()
    responsible = serializers.UUIDField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.CharField(
        default=MeasureStatus.PLANNED, help_text="planned, started, ended, evaluated"
    )


class StatusSerializer(serializers.Serializer):
    # Checked by the service, which names the known statuses in its refusal.
    status = serializers.CharField(help_text="planned, started, ended, evaluated")


class MeasureListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=MeasureSerializer(many=True), summary="Measures of visible students")
    def get(self, request, unit):
        scope = visibility.access_results(user=request.user, unit_public_id=unit)
        return Response(MeasureSerializer(measures.measures_of(scope=scope), many=True).data)

    @extend_schema(request=MeasureCreateSerializer, responses={201: MeasureSerializer})
    def post(self, request, unit):
        scope = visibility.access_results(user=request.user, unit_public_id=unit)
        data = MeasureCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        measure = measures.measure_record(
            actor=request.user,
            scope=scope,
            person_public_id=v["student"],
            subtest_public_id=v["subtest"],
            kind_public_id=v["kind"],
            starts_on=v["starts_on"],
            responsible_public_id=v.get("responsible"),
            note=v["note"],
            status=v["status"],
        )
        return Response(MeasureSerializer(measure).data, status=status.HTTP_201_CREATED)


class MeasureStatusView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=StatusSerializer, responses=MeasureSerializer)
    def post(self, request, unit, measure):
        scope = visibility.access_results(user=request.user, unit_public_id=unit)
        found = measures.access_measure(scope=scope, public_id=measure)
        data = StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changed = measures.measure_set_status(
            actor=request.user,
            scope=scope,
            measure=found,
            status=data.validated_data["status"],
        )
        return Response(MeasureSerializer(changed).data)


# --- follow-up requests -------------------------------------------------------------------------


class FollowUpRequestSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    test = serializers.UUIDField(source="test.public_id", read_only=True)
    question = serializers.CharField()
    due_on = serializers.DateField()


class FollowUpCreateSerializer(serializers.Serializer):
    test = serializers.UUIDField()
    subtest = serializers.UUIDField(required=False, allow_null=True)
    question = serializers.CharField()
    due_on = serializers.DateField()


class CountsSerializer(serializers.Serializer):
    below = serializers.IntegerField()
    just_above = serializers.IntegerField()
    with_measures = serializers.IntegerField()


class OverviewRowSerializer(serializers.Serializer):
    school_unit = serializers.CharField(source="school_unit.name")
    answered = serializers.BooleanField()
    answered_at = serializers.DateTimeField(allow_null=True)
    counts = CountsSerializer()
    note = serializers.CharField()


class AnswerSerializer(serializers.Serializer):
    follow_up = serializers.UUIDField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


def _get(qs, public_id):
    return get_by_public_id(qs, public_id)


class OrganiserFollowUpListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=FollowUpRequestSerializer(many=True), summary="Follow-up requests")
    def get(self, request, organiser):
        org = measures.administered_organiser(user=request.user, public_id=organiser)
        rows = measures.FollowUpRequest.objects.filter(organiser=org)
        return Response(FollowUpRequestSerializer(rows, many=True).data)

    @extend_schema(request=FollowUpCreateSerializer, responses={201: FollowUpRequestSerializer})
    def post(self, request, organiser):
        org = measures.administered_organiser(user=request.user, public_id=organiser)
        data = FollowUpCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        test = _get(TestDefinition.objects.all(), v["test"])
        subtest = _get(Subtest.objects.all(), v["subtest"]) if v.get("subtest") else None
        sent = measures.follow_up_request_send(
            actor=request.user,
            organiser=org,
            test=test,
            subtest=subtest,
            question=v["question"],
            due_on=v["due_on"],
        )
        return Response(FollowUpRequestSerializer(sent).data, status=status.HTTP_201_CREATED)


class OrganiserFollowUpDetailView(APIView):
    """Per school: counts and whether it answered, in name order; never a ranking."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=OverviewRowSerializer(many=True),
        summary="Answers per school",
        operation_id="results_follow_up_per_school",
    )
    def get(self, request, organiser, follow_up):
        org = measures.administered_organiser(user=request.user, public_id=organiser)
        follow = _get(measures.FollowUpRequest.objects.filter(organiser=org), follow_up)
        return Response(
            OverviewRowSerializer(measures.follow_up_overview(request=follow), many=True).data
        )


class UnitFollowUpAnswerView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=AnswerSerializer, responses=CountsSerializer, summary="Answer")
    def post(self, request, unit):
        scope = visibility.access_results(user=request.user, unit_public_id=unit)
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = measures.follow_up_answer(
            actor=request.user,
            scope=scope,
            request_public_id=data.validated_data["follow_up"],
            note=data.validated_data["note"],
        )
        return Response(CountsSerializer(answer.counts).data)
