"""REST API of grading: distribution and completeness (an assessor's score save is the desk's,
grading.desk_api).

Thin: scope, validate, call a service. Every path starts with the school unit; a unit where the
caller lacks the capability answers 404, as does any object of another unit. Refusals are
mapped once by provplattform.api_errors.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from grading import distribution_services, selectors
from grading.models import DistributionMode, OwnGroups
from schools.roles import Capability

LEAD = Capability.PREPARE_GRADING


class GradingRefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class GradingPersonRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField(source="full_name")


class GradingProgressSerializer(serializers.Serializer):
    assigned = serializers.IntegerField()
    assessed = serializers.IntegerField()
    remaining = serializers.IntegerField()


class GradingSubtestSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    test_title = serializers.CharField(source="test.title")
    title = serializers.CharField()


class GradingPlanSerializer(serializers.Serializer):
    mode = serializers.CharField()
    own_groups = serializers.CharField()
    by_item_items = serializers.ListField(child=serializers.UUIDField())
    due_date = serializers.DateField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)


class GradingSubtestProgressSerializer(serializers.Serializer):
    subtest = GradingSubtestSerializer()
    progress = GradingProgressSerializer()
    plan = GradingPlanSerializer(allow_null=True)
    complete = serializers.BooleanField()


class GradingAssessorProgressSerializer(GradingProgressSerializer):
    name = serializers.CharField()
    load = serializers.IntegerField()


class GradingItemProgressSerializer(GradingProgressSerializer):
    identifier = serializers.CharField()
    person_graded = serializers.BooleanField()


class GradingCompletenessSerializer(GradingSubtestProgressSerializer):
    by_assessor = GradingAssessorProgressSerializer(many=True)
    by_item = GradingItemProgressSerializer(many=True)
    unassigned = serializers.IntegerField()


class GradingChoiceSerializer(serializers.Serializer):
    assessors = serializers.ListField(child=serializers.UUIDField(), allow_empty=False)
    mode = serializers.ChoiceField(DistributionMode.choices, default=DistributionMode.BY_STUDENT)
    by_item_items = serializers.ListField(child=serializers.UUIDField(), required=False)
    own_groups = serializers.ChoiceField(OwnGroups.choices, default=OwnGroups.ANY)


class GradingRedistributeSerializer(GradingChoiceSerializer):
    preview = serializers.BooleanField(default=False)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class GradingShareSerializer(serializers.Serializer):
    assessor = GradingPersonRefSerializer(source="person")
    responses = serializers.IntegerField()
    load = serializers.IntegerField()
    students = serializers.IntegerField()
    items = serializers.ListField(child=serializers.CharField())


class GradingPreviewSerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    spread = serializers.IntegerField()
    moved = serializers.IntegerField()
    shares = GradingShareSerializer(many=True)


class GradingUnassessedSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    item = serializers.CharField(source="item.identifier")
    student = GradingPersonRefSerializer(source="attempt.person")
    assessor = GradingPersonRefSerializer(source="grading_assignment.assessor", allow_null=True)


class GradingDueDateSerializer(serializers.Serializer):
    due_date = serializers.DateField(allow_null=True)


# --- views ------------------------------------------------------------------------------------


class GradingView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    capability: Capability = LEAD

    def unit(self, request, unit):
        return selectors.access_unit(user=request.user, public_id=unit, capability=self.capability)

    def unit_subtest(self, request, unit, subtest):
        school_unit = self.unit(request, unit)
        return school_unit, selectors.access_subtest(school_unit=school_unit, public_id=subtest)

    def choice(self, request, school_unit, subtest, serializer_class=GradingChoiceSerializer):
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        choice = distribution_services.choice_from(
            school_unit=school_unit,
            subtest=subtest,
            assessor_ids=data["assessors"],
            mode=data["mode"],
            by_item_ids=data.get("by_item_items", []),
            own_groups=data["own_groups"],
        )
        return choice, data


def _counts(progress: selectors.Progress) -> dict:
    return {
        "assigned": progress.assigned,
        "assessed": progress.assessed,
        "remaining": progress.remaining,
    }


def _progress(school_unit, subtest) -> dict:
    plan = selectors.plan_of(school_unit=school_unit, subtest=subtest)
    progress = selectors.subtest_progress(school_unit=school_unit, subtest=subtest)
    return {
        "subtest": subtest,
        "progress": _counts(progress),
        "plan": plan,
        "complete": selectors.subtest_complete(school_unit, subtest),
    }


class SubtestListView(GradingView):
    @extend_schema(
        summary="Subtests to grade at the unit, with their progress",
        responses={200: GradingSubtestProgressSerializer(many=True), 404: GradingRefusalSerializer},
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        rows = [
            {**row, "progress": _counts(row["progress"])}
            for row in selectors.subtests_overview(school_unit=school_unit)
        ]
        return Response(GradingSubtestProgressSerializer(rows, many=True).data)


class AssessorListView(GradingView):
    @extend_schema(
        summary="Staff of the unit who may assess",
        responses={200: GradingPersonRefSerializer(many=True), 404: GradingRefusalSerializer},
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        people = selectors.eligible_assessors(school_unit=school_unit)
        return Response(GradingPersonRefSerializer(people, many=True).data)


class SubtestDetailView(GradingView):
    @extend_schema(
        summary="Completeness of a subtest: per assessor and per item",
        responses={200: GradingCompletenessSerializer, 404: GradingRefusalSerializer},
    )
    def get(self, request, unit, subtest):
        school_unit, found = self.unit_subtest(request, unit, subtest)
        data = _progress(school_unit, found)
        data["by_assessor"] = selectors.progress_by_assessor(school_unit=school_unit, subtest=found)
        data["by_item"] = selectors.progress_by_item(school_unit=school_unit, subtest=found)
        data["unassigned"] = distribution_services.unassigned_count(
            school_unit=school_unit, subtest=found
        )
        return Response(GradingCompletenessSerializer(data).data)


class PreviewView(GradingView):
    @extend_schema(
        summary="Preview a distribution: who gets what, load per assessor (nothing is stored)",
        request=GradingChoiceSerializer,
        responses={
            200: GradingPreviewSerializer,
            400: GradingRefusalSerializer,
            404: GradingRefusalSerializer,
        },
    )
    def post(self, request, unit, subtest):
        school_unit, found = self.unit_subtest(request, unit, subtest)
        choice, _data = self.choice(request, school_unit, found)
        preview = distribution_services.distribution_preview(
            actor=request.user, school_unit=school_unit, subtest=found, choice=choice
        )
        return Response(GradingPreviewSerializer(preview).data)


class DistributionView(GradingView):
    @extend_schema(
        summary="Confirm the distribution (one transaction, audited)",
        request=GradingChoiceSerializer,
        responses={
            201: GradingPlanSerializer,
            400: GradingRefusalSerializer,
            404: GradingRefusalSerializer,
            409: GradingRefusalSerializer,
        },
    )
    def post(self, request, unit, subtest):
        school_unit, found = self.unit_subtest(request, unit, subtest)
        choice, _data = self.choice(request, school_unit, found)
        plan = distribution_services.distribution_confirm(
            actor=request.user, school_unit=school_unit, subtest=found, choice=choice
        )
        return Response(GradingPlanSerializer(plan).data, status=status.HTTP_201_CREATED)


class RedistributionView(GradingView):
    @extend_schema(
        summary="Redistribute what is still unassessed (lead and administrators only)",
        description="With `preview` true nothing is stored. Assessed responses never move.",
        request=GradingRedistributeSerializer,
        responses={
            200: GradingPreviewSerializer,
            400: GradingRefusalSerializer,
            404: GradingRefusalSerializer,
            409: GradingRefusalSerializer,
        },
    )
    def post(self, request, unit, subtest):
        school_unit, found = self.unit_subtest(request, unit, subtest)
        choice, data = self.choice(request, school_unit, found, GradingRedistributeSerializer)
        if data["preview"]:
            result = distribution_services.redistribution_preview(
                actor=request.user, school_unit=school_unit, subtest=found, choice=choice
            )
        else:
            result = distribution_services.distribution_redistribute(
                actor=request.user,
                school_unit=school_unit,
                subtest=found,
                choice=choice,
                reason=data.get("reason", ""),
            )
        return Response(GradingPreviewSerializer(result).data)


class UnassessedView(GradingView):
    @extend_schema(
        summary="The responses of a subtest still unassessed",
        responses={200: GradingUnassessedSerializer(many=True), 404: GradingRefusalSerializer},
    )
    def get(self, request, unit, subtest):
        school_unit, found = self.unit_subtest(request, unit, subtest)
        rows = selectors.unassessed_scores(school_unit=school_unit, subtest=found)
        return Response(GradingUnassessedSerializer(rows, many=True).data)


class DueDateView(GradingView):
    @extend_schema(
        summary="Set the school's date by which the subtest is graded",
        request=GradingDueDateSerializer,
        responses={
            200: GradingDueDateSerializer,
            400: GradingRefusalSerializer,
            404: GradingRefusalSerializer,
        },
    )
    def put(self, request, unit, subtest):
        school_unit, found = self.unit_subtest(request, unit, subtest)
        body = GradingDueDateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        plan = distribution_services.plan_set_due_date(
            actor=request.user,
            school_unit=school_unit,
            subtest=found,
            due_date=body.validated_data["due_date"],
        )
        return Response(GradingDueDateSerializer(plan).data)
