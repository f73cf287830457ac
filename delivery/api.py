"""REST API of the live sitting: the proctor's closing actions (thin: scope, validate, call a
service).

Every path starts with the school unit; a unit where the caller is no proctor answers 404, as
does a sitting or attempt of another unit. A refusal answers 409 with the reason in `detail`;
ending a sitting with tests still open also lists them in `open`.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from delivery import attempts, closing, proctor_policy, selectors
from exams.models import Sitting
from provplattform.errors import NotFound
from schools.roles import Capability
from schools.selectors import access_school_unit


class ClosingRefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class OpenAttemptSerializer(serializers.Serializer):
    attempt = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["working", "paused", proctor_policy.LOST])
    label = serializers.CharField()


class OpenRefusalSerializer(ClosingRefusalSerializer):
    open = OpenAttemptSerializer(many=True)


class SubmitRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class AttemptSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField()


class EndRequestSerializer(serializers.Serializer):
    submit = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        help_text="The open attempts the proctor confirmed: exactly those still open are "
        "submitted. Leave out to end only when nobody has a test open.",
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class SittingEndedSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    status = serializers.CharField()
    ended_at = serializers.DateTimeField()


def _refused(exc: attempts.AttemptRefused) -> Response:
    body: dict[str, object] = {"detail": str(exc), "code": exc.code}
    if isinstance(exc, closing.OpenAttemptsRefused):
        body["open"] = exc.open
    return Response(body, status=status.HTTP_409_CONFLICT)


class ProctorUnitView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def sitting(self, request, unit, sitting) -> Sitting:
        school_unit = access_school_unit(
            user=request.user, public_id=unit, capability=Capability.PROCTOR
        )
        found = selectors.access_sitting(user=request.user, public_id=sitting)
        if found.school_unit_id != school_unit.pk:
            raise NotFound("No such sitting.")
        return found


class AttemptSubmitView(ProctorUnitView):
    @extend_schema(
        request=SubmitRequestSerializer,
        responses={200: AttemptSerializer, 409: ClosingRefusalSerializer},
        description="Submit a working or paused student's test with the latest saved answers "
        "(audited with the reason).",
    )
    def post(self, request, unit, sitting, attempt):
        target = self.sitting(request, unit, sitting)
        found = selectors.access_attempt(user=request.user, sitting=target, public_id=attempt)
        data = SubmitRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            done = attempts.attempt_submit_for_student(
                actor=request.user, attempt=found, reason=data.validated_data["reason"]
            )
        except attempts.AttemptRefused as exc:
            return _refused(exc)
        return Response(AttemptSerializer(done).data)


class SittingEndView(ProctorUnitView):
    @extend_schema(
        request=EndRequestSerializer,
        responses={200: SittingEndedSerializer, 409: OpenRefusalSerializer},
        description="End the sitting; students who never started are marked absent. Tests still "
        "open are submitted only when `submit` lists exactly them; otherwise the answer is 409 "
        "with the open tests in `open`.",
    )
    def post(self, request, unit, sitting):
        target = self.sitting(request, unit, sitting)
        data = EndRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            ended = closing.sitting_end(
                actor=request.user,
                sitting=target,
                submit=[str(a) for a in values["submit"]] if "submit" in values else None,
                reason=values.get("reason", ""),
            )
        except attempts.AttemptRefused as exc:
            return _refused(exc)
        return Response(SittingEndedSerializer(ended).data)
