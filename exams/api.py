"""REST API of the preparation before the day (thin: scope, validate, call a service).

Every path starts with the school unit; a unit where the caller lacks the capability answers 404,
as does any object of another unit. A refused change answers 400 with the reason in `detail`.
"""

from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from exams import catch_up, day_passwords, readiness, selectors
from exams.models import AdjustmentKind, ExemptionGround, Tool
from exams.preparation.assignments import (
    assignment_remove,
    assignment_replace,
    assignments_create,
    assignments_create_for_grade,
    assignments_create_for_group,
    registration_create,
)
from exams.preparation.common import ExamRefused
from exams.preparation.decisions import (
    adjustment_remove,
    adjustment_set,
    exemption_create,
    exemption_remove,
)
from exams.preparation.rooms import room_create, room_delete
from exams.preparation.rules import CHECKLIST_KEYS
from exams.preparation.sittings import (
    checklist_acknowledge,
    paper_replacement_record,
    sitting_add_proctor,
    sitting_add_students,
    sitting_create,
    sitting_postpone,
    sitting_remove_proctor,
    sitting_remove_student,
)
from schools.models import Person
from schools.roles import Capability
from schools.selectors import access_school_unit

ADMIN = Capability.ADMINISTER_TESTS


class UnitView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    capability: Capability = ADMIN

    def unit(self, request, unit):
        return access_school_unit(user=request.user, public_id=unit, capability=self.capability)


# --- serializers --------------------------------------------------------------------------------


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class SummaryRowSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    name = serializers.CharField()
    reason = serializers.CharField(required=False)
    action = serializers.CharField(required=False)


class SummarySerializer(serializers.Serializer):
    changed_count = serializers.IntegerField()
    refused_count = serializers.IntegerField()
    changed = SummaryRowSerializer(many=True)
    refused = SummaryRowSerializer(many=True)
    notes = serializers.ListField(child=serializers.CharField(), required=False)


class PersonRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField(source="full_name")


class RoomSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    name = serializers.CharField(max_length=100)


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


class ProctorshipSerializer(serializers.Serializer):
    person = PersonRefSerializer()
    is_backup = serializers.BooleanField()


class SittingSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    subtest = serializers.UUIDField(source="subtest.public_id")
    subtest_title = serializers.CharField(source="subtest.title")
    room = RoomSerializer()
    starts_at = serializers.DateTimeField()
    status = serializers.CharField()
    is_catch_up = serializers.BooleanField()
    closes_at = serializers.DateTimeField(allow_null=True)
    proctors = ProctorshipSerializer(source="proctorships", many=True)
    postponed_to = serializers.UUIDField(
        source="postponed_to.public_id", allow_null=True, default=None
    )


class SittingDetailSerializer(SittingSerializer):
    students = serializers.SerializerMethodField()

    def get_students(self, sitting) -> list[dict]:
        return PersonRefSerializer(selectors.sitting_students(sitting=sitting), many=True).data


class SittingRequestSerializer(serializers.Serializer):
    subtest = serializers.UUIDField()
    room = serializers.UUIDField()
    starts_at = serializers.DateTimeField()
    proctors = serializers.ListField(child=serializers.UUIDField(), allow_empty=True)
    backup_proctors = serializers.ListField(child=serializers.UUIDField(), required=False)
    students = serializers.ListField(child=serializers.UUIDField(), required=False)
    is_catch_up = serializers.BooleanField(required=False, default=False)
    closes_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When tests still open are submitted (default: the end of the subtest's "
        "opening hours that day).",
    )


class SittingCreatedSerializer(serializers.Serializer):
    sitting = SittingSerializer()
    students = SummarySerializer()


class StudentsRequestSerializer(serializers.Serializer):
    students = serializers.ListField(child=serializers.UUIDField())


class ProctorRequestSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    is_backup = serializers.BooleanField(required=False, default=False)


class PostponeRequestSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=500)
    room = serializers.UUIDField(required=False)


class PaperReplacementRequestSerializer(serializers.Serializer):
    student = serializers.UUIDField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DayPasswordSerializer(serializers.Serializer):
    date = serializers.DateField()
    password = serializers.CharField()


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


# --- helpers ------------------------------------------------------------------------------------


def _staff_person(school_unit, public_id) -> Person:
    """A person of the unit (another unit's is not found); services refuse those who may not
    take the part."""
    return selectors.access_staff_member(school_unit=school_unit, public_id=public_id)


REASON = OpenApiParameter(
    "reason",
    str,
    description=_(
        "Why, kept in the audit log (also accepted as `reason` in a JSON body). Required to "
        "withdraw an exemption and to remove an adjustment after the student has started."
    ),
)


def _reason(request) -> str:
    value = request.query_params.get("reason")
    if value is None and hasattr(request.data, "get"):
        value = request.data.get("reason")
    return str(value or "").strip()[:500]


def _removed(remove, **kwargs) -> Response:
    """Run a removal service: 204 when done (a refusal answers 400 at the edge)."""
    remove(**kwargs)
    return Response(status=status.HTTP_204_NO_CONTENT)


REMOVED = {204: None, 400: RefusalSerializer}


def _room_param(request, school_unit):
    """The `room` query parameter as a room of the unit (another unit's room is a 404)."""
    if not request.query_params.get("room"):
        return None
    return selectors.access_room(
        user=request.user, school_unit=school_unit, public_id=request.query_params["room"]
    )


def _students(request, school_unit, ids, capability=ADMIN) -> list[Person]:
    found = selectors.persons_at(
        user=request.user, school_unit=school_unit, public_ids=ids, capability=capability
    )
    if len(found) != len(set(ids)):
        raise ExamRefused(_("Not enrolled at this school unit."))
    return found


# --- rooms --------------------------------------------------------------------------------------


class RoomListView(UnitView):
    @extend_schema(responses=RoomSerializer(many=True))
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        return Response(
            RoomSerializer(
                selectors.rooms_for(user=request.user, school_unit=school_unit), many=True
            ).data
        )

    @extend_schema(request=RoomSerializer, responses={201: RoomSerializer, 400: RefusalSerializer})
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        data = RoomSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room = room_create(
            actor=request.user, school_unit=school_unit, name=data.validated_data["name"]
        )
        return Response(RoomSerializer(room).data, status=status.HTTP_201_CREATED)


class RoomDetailView(UnitView):
    @extend_schema(responses=REMOVED, description=_("Refused while a sitting uses the room."))
    def delete(self, request, unit, room):
        school_unit = self.unit(request, unit)
        target = selectors.access_room(user=request.user, school_unit=school_unit, public_id=room)
        return _removed(room_delete, actor=request.user, room=target)


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
        data = RegistrationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        test = selectors.access_test(
            school_unit=school_unit, public_id=data.validated_data["test"]["public_id"]
        )
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
        subtest = None
        if request.query_params.get("subtest"):
            subtest = selectors.access_subtest(
                school_unit=school_unit, public_id=request.query_params["subtest"]
            )
        room = _room_param(request, school_unit)
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
        data = AssignRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
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
        data = CorrectRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values.get("replacement"):
            subtest = selectors.access_subtest(
                school_unit=school_unit, public_id=values["replacement"]
            )
            assignment_replace(
                actor=request.user, assignment=target, subtest=subtest, reason=values["reason"]
            )
        else:
            assignment_remove(actor=request.user, assignment=target, reason=values["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- sittings -----------------------------------------------------------------------------------


class SittingListView(UnitView):
    @extend_schema(
        parameters=[OpenApiParameter("room", str)], responses=SittingSerializer(many=True)
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        room = _room_param(request, school_unit)
        rows = selectors.sittings_for(user=request.user, school_unit=school_unit, room=room)
        return Response(SittingSerializer(rows, many=True).data)

    @extend_schema(
        request=SittingRequestSerializer,
        responses={201: SittingCreatedSerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        data = SittingRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        subtest = selectors.access_subtest(school_unit=school_unit, public_id=values["subtest"])
        room = selectors.access_room(
            user=request.user, school_unit=school_unit, public_id=values["room"]
        )
        student_ids = values.get("students", [])
        students = selectors.persons_at(
            user=request.user, school_unit=school_unit, public_ids=student_ids
        )
        result = sitting_create(
            actor=request.user,
            school_unit=school_unit,
            subtest=subtest,
            room=room,
            starts_at=values["starts_at"],
            proctors=[_staff_person(school_unit, p) for p in values["proctors"]],
            backup_proctors=[
                _staff_person(school_unit, p) for p in values.get("backup_proctors", [])
            ],
            students=students,
            is_catch_up=values["is_catch_up"],
            closes_at=values.get("closes_at"),
        )
        result.students.refuse_unknown(student_ids, students)
        return Response(
            {
                "sitting": SittingSerializer(result.sitting).data,
                "students": result.students.as_dict(),
            },
            status=status.HTTP_201_CREATED,
        )


class SittingDetailView(UnitView):
    @extend_schema(responses=SittingDetailSerializer)
    def get(self, request, unit, sitting):
        school_unit = self.unit(request, unit)
        target = selectors.access_sitting(
            user=request.user, school_unit=school_unit, public_id=sitting
        )
        return Response(SittingDetailSerializer(target).data)


class SittingStudentsView(UnitView):
    @extend_schema(
        request=StudentsRequestSerializer,
        responses={200: SummarySerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit, sitting):
        school_unit = self.unit(request, unit)
        target = selectors.access_sitting(
            user=request.user, school_unit=school_unit, public_id=sitting
        )
        data = StudentsRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data["students"]
        found = selectors.persons_at(user=request.user, school_unit=school_unit, public_ids=ids)
        summary = sitting_add_students(actor=request.user, sitting=target, persons=found)
        return Response(summary.refuse_unknown(ids, found).as_dict())


class SittingProctorsView(UnitView):
    @extend_schema(
        request=ProctorRequestSerializer,
        responses={200: SittingDetailSerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit, sitting):
        school_unit = self.unit(request, unit)
        target = selectors.access_sitting(
            user=request.user, school_unit=school_unit, public_id=sitting
        )
        data = ProctorRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sitting_add_proctor(
            actor=request.user,
            sitting=target,
            person=_staff_person(school_unit, data.validated_data["person"]),
            is_backup=data.validated_data["is_backup"],
        )
        return Response(SittingDetailSerializer(target).data)


class SittingStudentView(UnitView):
    @extend_schema(parameters=[REASON], responses=REMOVED)
    def delete(self, request, unit, sitting, student):
        school_unit = self.unit(request, unit)
        target = selectors.access_sitting(
            user=request.user, school_unit=school_unit, public_id=sitting
        )
        person = selectors.access_sitting_student(sitting=target, public_id=student)
        return _removed(
            sitting_remove_student,
            actor=request.user,
            sitting=target,
            person=person,
            reason=_reason(request),
        )


class SittingProctorView(UnitView):
    @extend_schema(
        responses=REMOVED,
        description=_("Refused when it would leave the sitting without a (non-backup) proctor."),
    )
    def delete(self, request, unit, sitting, person):
        school_unit = self.unit(request, unit)
        target = selectors.access_sitting(
            user=request.user, school_unit=school_unit, public_id=sitting
        )
        proctor = selectors.access_sitting_proctor(sitting=target, public_id=person)
        return _removed(sitting_remove_proctor, actor=request.user, sitting=target, person=proctor)


class SittingPostponeView(UnitView):
    @extend_schema(
        request=PostponeRequestSerializer,
        responses={201: SittingDetailSerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit, sitting):
        school_unit = self.unit(request, unit)
        target = selectors.access_sitting(
            user=request.user, school_unit=school_unit, public_id=sitting
        )
        data = PostponeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        room = None
        if values.get("room"):
            room = selectors.access_room(
                user=request.user, school_unit=school_unit, public_id=values["room"]
            )
        new = sitting_postpone(
            actor=request.user,
            sitting=target,
            starts_at=values["starts_at"],
            reason=values["reason"],
            room=room,
        )
        return Response(SittingDetailSerializer(new).data, status=status.HTTP_201_CREATED)


class PaperReplacementView(UnitView):
    @extend_schema(
        request=PaperReplacementRequestSerializer, responses={201: None, 400: RefusalSerializer}
    )
    def post(self, request, unit, sitting):
        school_unit = self.unit(request, unit)
        target = selectors.access_sitting(
            user=request.user, school_unit=school_unit, public_id=sitting
        )
        data = PaperReplacementRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = _students(request, school_unit, [data.validated_data["student"]])[0]
        paper_replacement_record(
            actor=request.user,
            school_unit=school_unit,
            subtest=target.subtest,
            person=person,
            note=data.validated_data["note"],
        )
        return Response(status=status.HTTP_201_CREATED)


# --- day password -------------------------------------------------------------------------------


class DayPasswordView(UnitView):
    capability = Capability.VIEW_DAY_PASSWORD

    @extend_schema(
        parameters=[OpenApiParameter("date", str, description="YYYY-MM-DD")],
        responses=DayPasswordSerializer,
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        today = day_passwords.unit_today(school_unit)
        try:
            day = datetime.date.fromisoformat(request.query_params.get("date") or today.isoformat())
        except ValueError:
            return Response({"detail": str(_("Give the date as YYYY-MM-DD."))}, status=400)
        if day < today:
            return Response({"detail": str(_("Past day passwords are not shown."))}, status=400)
        record = day_passwords.day_password_for(school_unit=school_unit, date=day)
        return Response({"date": day, "password": day_passwords.display(record.password)})


# --- adjustments and exemptions -----------------------------------------------------------------


def _decision_targets(request, school_unit, values: dict, capability):
    """The test, optional subtest and student that an adjustment or exemption request names."""
    test = selectors.access_test(school_unit=school_unit, public_id=values["test"])
    subtest = None
    if values.get("subtest"):
        subtest = selectors.access_subtest(school_unit=school_unit, public_id=values["subtest"])
    person = _students(request, school_unit, [values["student"]], capability)[0]
    return test, subtest, person


class AdjustmentListView(UnitView):
    capability = Capability.ENTER_ADJUSTMENTS

    @extend_schema(
        parameters=[OpenApiParameter("room", str)], responses=AdjustmentSerializer(many=True)
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        room = _room_param(request, school_unit)
        rows = selectors.adjustments_for(user=request.user, school_unit=school_unit, room=room)
        return Response(AdjustmentSerializer(rows, many=True).data)

    @extend_schema(
        request=AdjustmentRequestSerializer,
        responses={200: AdjustmentSerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        data = AdjustmentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
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
            decided_by=_staff_person(school_unit, values["decided_by"]),
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
        return _removed(
            adjustment_remove,
            actor=request.user,
            adjustment=target,
            reason=_reason(request),
        )


class ExemptionListView(UnitView):
    capability = Capability.DECIDE_EXEMPTIONS

    @extend_schema(
        parameters=[OpenApiParameter("room", str)], responses=ExemptionSerializer(many=True)
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        room = _room_param(request, school_unit)
        rows = selectors.exemptions_for(user=request.user, school_unit=school_unit, room=room)
        return Response(ExemptionSerializer(rows, many=True).data)

    @extend_schema(
        request=ExemptionRequestSerializer,
        responses={201: ExemptionSerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        data = ExemptionRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
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
            decided_by=_staff_person(school_unit, values["decided_by"]),
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
        return _removed(
            exemption_remove,
            actor=request.user,
            exemption=target,
            reason=_reason(request),
        )


# --- readiness ----------------------------------------------------------------------------------


class ReadinessView(UnitView):
    @extend_schema(
        parameters=[OpenApiParameter("room", str)],
        responses=SittingReadinessSerializer(many=True),
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        room = _room_param(request, school_unit)
        rows = readiness.unit_readiness(school_unit=school_unit, room=room)
        return Response(SittingReadinessSerializer(rows, many=True).data)


class StillToSitStudentSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="person.public_id")
    name = serializers.CharField(source="person.full_name")
    reason = serializers.ChoiceField(choices=[catch_up.ABSENT, catch_up.NOT_PLACED])
    missed_sitting = serializers.UUIDField(source="missed.public_id", allow_null=True, default=None)


class StillToSitSerializer(serializers.Serializer):
    subtest = serializers.UUIDField(source="subtest.public_id")
    test = serializers.CharField(source="subtest.test.title")
    title = serializers.CharField(source="subtest.title")
    window_end = serializers.DateField()
    students = StillToSitStudentSerializer(many=True)


class StillToSitView(UnitView):
    @extend_schema(
        responses=StillToSitSerializer(many=True),
        description=_(
            "Per subtest that has had a sitting end (window still open): the students who still "
            "have to sit it, absent from a sitting or never placed. Place them in a catch-up "
            "sitting with POST sittings/ (is_catch_up, students)."
        ),
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        groups = catch_up.still_to_sit(school_unit=school_unit)
        return Response(StillToSitSerializer(groups, many=True).data)


class AcknowledgeView(UnitView):
    @extend_schema(
        request=AcknowledgeRequestSerializer, responses={201: None, 400: RefusalSerializer}
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        data = AcknowledgeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sitting = None
        if data.validated_data.get("sitting"):
            sitting = selectors.access_sitting(
                user=request.user, school_unit=school_unit, public_id=data.validated_data["sitting"]
            )
        checklist_acknowledge(
            actor=request.user,
            school_unit=school_unit,
            sitting=sitting,
            key=data.validated_data["key"],
        )
        return Response(status=status.HTTP_201_CREATED)
