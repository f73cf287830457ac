"""REST API of second marking: the second assessor's blind scores, and the lead's sample,
agreement figures and decisions."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from grading import desk_selectors as sel
from grading import second_marking as svc
from grading.desk_api import DeskRefusalSerializer, DeskScoreSerializer, DeskView
from grading.selectors import access_subtest, eligible_assessors
from provplattform.errors import Refused
from schools.roles import Capability


class SecondMarkingSerializer(serializers.Serializer):
    """What the second assessor sees: never the first score."""

    id = serializers.UUIDField(source="public_id")
    item = serializers.UUIDField(source="score.item.public_id")
    item_identifier = serializers.CharField(source="score.item.identifier")
    max_points = serializers.IntegerField(source="score.item.max_points")
    points = serializers.IntegerField(allow_null=True)
    criteria_points = serializers.DictField(child=serializers.IntegerField())
    comment = serializers.CharField()
    version = serializers.IntegerField()


class SecondSaveSerializer(serializers.Serializer):
    points = serializers.IntegerField(required=False, allow_null=True)
    criteria_points = serializers.DictField(
        child=serializers.IntegerField(), required=False, allow_null=True
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    version = serializers.IntegerField(min_value=0)


class SampleSerializer(serializers.Serializer):
    subtest = serializers.UUIDField()
    percent = serializers.IntegerField(min_value=1, max_value=100)
    items = serializers.ListField(child=serializers.UUIDField(), required=False)
    assessors = serializers.ListField(child=serializers.UUIDField(), min_length=1)


class SampleResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()


class DecideSerializer(serializers.Serializer):
    points = serializers.IntegerField(min_value=0)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FiguresSerializer(serializers.Serializer):
    pairs = serializers.IntegerField()
    exact = serializers.FloatField(allow_null=True)
    mean_absolute_difference = serializers.FloatField(allow_null=True)
    kappa = serializers.FloatField(allow_null=True)


class PairSerializer(serializers.Serializer):
    first_assessor = serializers.UUIDField()
    second_assessor = serializers.UUIDField()
    figures = FiguresSerializer()


class ItemAgreementSerializer(serializers.Serializer):
    item = serializers.UUIDField()
    identifier = serializers.CharField()
    sampled = serializers.IntegerField()
    figures = FiguresSerializer()
    pairs = PairSerializer(many=True)


class DisagreementSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    item = serializers.UUIDField()
    first_points = serializers.IntegerField()
    second_points = serializers.IntegerField()


class AgreementSerializer(serializers.Serializer):
    weights = serializers.CharField()
    items = ItemAgreementSerializer(many=True)
    disagreements = DisagreementSerializer(many=True)


class MySecondMarkingsView(DeskView):
    @extend_schema(
        summary="Responses I am to mark a second time (blind)",
        responses={200: SecondMarkingSerializer(many=True)},
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        markings = sel.my_second_markings(user=request.user, school_unit=school_unit)
        return Response(SecondMarkingSerializer(markings[:1000], many=True).data)


class MySecondMarkingView(DeskView):
    @extend_schema(
        summary="One response I am to mark a second time",
        responses={200: SecondMarkingSerializer, 404: DeskRefusalSerializer},
    )
    def get(self, request, unit, marking):
        school_unit = self.unit(request, unit)
        target = sel.access_my_second_marking(
            user=request.user, school_unit=school_unit, public_id=marking
        )
        return Response(SecondMarkingSerializer(target).data)

    @extend_schema(
        summary="Save my second score (optimistic locking on version)",
        request=SecondSaveSerializer,
        responses={
            200: SecondMarkingSerializer,
            400: DeskRefusalSerializer,
            404: DeskRefusalSerializer,
            409: DeskRefusalSerializer,
        },
    )
    def put(self, request, unit, marking):
        school_unit = self.unit(request, unit)
        target = sel.access_my_second_marking(
            user=request.user, school_unit=school_unit, public_id=marking
        )
        data = self.valid(request, SecondSaveSerializer)
        saved = svc.second_marking_save(
            actor=request.user,
            marking=target,
            points=data.get("points"),
            criteria_points=data.get("criteria_points"),
            comment=data.get("comment", ""),
            version=data["version"],
        )
        return Response(SecondMarkingSerializer(saved).data)


class SampleView(DeskView):
    capability = Capability.PREPARE_GRADING

    @extend_schema(
        summary="Send a sample of a subtest's responses for second marking (the lead)",
        request=SampleSerializer,
        responses={
            201: SampleResultSerializer,
            400: DeskRefusalSerializer,
            404: DeskRefusalSerializer,
        },
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        data = self.valid(request, SampleSerializer)
        subtest = access_subtest(school_unit=school_unit, public_id=data["subtest"])
        wanted = {str(a) for a in data["assessors"]}
        assessors = [p for p in eligible_assessors(school_unit=school_unit)
                     if str(p.public_id) in wanted]  # fmt: skip
        if len(assessors) != len(wanted):
            raise Refused(_("Choose second assessors who assess at this school unit."))
        items = None
        if data.get("items"):
            items = list(subtest.items.filter(public_id__in=data["items"]))
        created = svc.second_marking_sample(
            actor=request.user,
            school_unit=school_unit,
            subtest=subtest,
            assessors=assessors,
            percent=data["percent"],
            items=items,
        )
        return Response({"created": len(created)}, status=201)


class AgreementView(DeskView):
    capability = Capability.PREPARE_GRADING

    @extend_schema(
        summary="Agreement per item and assessor pair (quadratic weighted kappa), disagreements",
        parameters=[OpenApiParameter("subtest", str, description="Every subtest when left out.")],
        responses={200: AgreementSerializer, 404: DeskRefusalSerializer},
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        subtest = None
        if request.query_params.get("subtest"):
            subtest = access_subtest(
                school_unit=school_unit, public_id=request.query_params["subtest"]
            )
        report = svc.agreement_report(school_unit=school_unit, subtest=subtest)

        def figures(f):
            return {
                "pairs": f.pairs,
                "exact": f.exact,
                "mean_absolute_difference": f.mean_absolute_difference,
                "kappa": f.kappa,
            }

        return Response(
            {
                "weights": report["weights"],
                "items": [
                    {
                        "item": row.item.public_id,
                        "identifier": row.item.identifier,
                        "sampled": row.sampled,
                        "figures": figures(row.figures),
                        "pairs": [
                            {
                                "first_assessor": a.public_id,
                                "second_assessor": b.public_id,
                                "figures": figures(f),
                            }
                            for a, b, f in row.pairs
                        ],
                    }
                    for row in report["items"]
                ],
                "disagreements": [
                    {
                        "id": m.public_id,
                        "item": m.score.item.public_id,
                        "first_points": svc.first_points(m),
                        "second_points": m.points,
                    }
                    for m in report["disagreements"]
                ],
            }
        )


class DecideView(DeskView):
    capability = Capability.PREPARE_GRADING

    @extend_schema(
        summary="Decide a response both assessors scored; the decided points count (the lead)",
        request=DecideSerializer,
        responses={
            200: DeskScoreSerializer,
            400: DeskRefusalSerializer,
            404: DeskRefusalSerializer,
            409: DeskRefusalSerializer,
        },
    )
    def post(self, request, unit, marking):
        school_unit = self.unit(request, unit)
        target = sel.access_unit_second_marking(
            user=request.user, school_unit=school_unit, public_id=marking
        )
        body = self.valid(request, DecideSerializer)
        score = svc.second_marking_decide(actor=request.user, marking=target, **body)
        return Response(DeskScoreSerializer(score).data)
