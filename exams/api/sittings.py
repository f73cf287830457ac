"""Sittings: when and where a subtest is taken, by whom and under whose eyes; catch-up sittings
for those who still have to sit."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from exams import catch_up, selectors
from exams.api.base import (
    REASON,
    REMOVED,
    UnitView,
    enrolled_students,
    optional_room,
    reason_of,
    removed,
    room_param,
    staff_person,
    validated,
)
from exams.api.serializers import (
    PersonRefSerializer,
    RefusalSerializer,
    SittingSerializer,
    SummarySerializer,
)
from exams.preparation.sittings import (
    paper_replacement_record,
    sitting_add_proctor,
    sitting_add_students,
    sitting_create,
    sitting_postpone,
    sitting_remove_proctor,
    sitting_remove_student,
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


class SittingListView(UnitView):
    @extend_schema(
        parameters=[OpenApiParameter("room", str)], responses=SittingSerializer(many=True)
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        room = room_param(request, school_unit)
        rows = selectors.sittings_for(user=request.user, school_unit=school_unit, room=room)
        return Response(SittingSerializer(rows, many=True).data)

    @extend_schema(
        request=SittingRequestSerializer,
        responses={201: SittingCreatedSerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        values = validated(SittingRequestSerializer, request)
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
            proctors=[staff_person(school_unit, p) for p in values["proctors"]],
            backup_proctors=[
                staff_person(school_unit, p) for p in values.get("backup_proctors", [])
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
        _school_unit, target = self.sitting(request, unit, sitting)
        return Response(SittingDetailSerializer(target).data)


class SittingStudentsView(UnitView):
    @extend_schema(
        request=StudentsRequestSerializer,
        responses={200: SummarySerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit, sitting):
        school_unit, target = self.sitting(request, unit, sitting)
        ids = validated(StudentsRequestSerializer, request)["students"]
        found = selectors.persons_at(user=request.user, school_unit=school_unit, public_ids=ids)
        summary = sitting_add_students(actor=request.user, sitting=target, persons=found)
        return Response(summary.refuse_unknown(ids, found).as_dict())


class SittingProctorsView(UnitView):
    @extend_schema(
        request=ProctorRequestSerializer,
        responses={200: SittingDetailSerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit, sitting):
        school_unit, target = self.sitting(request, unit, sitting)
        values = validated(ProctorRequestSerializer, request)
        sitting_add_proctor(
            actor=request.user,
            sitting=target,
            person=staff_person(school_unit, values["person"]),
            is_backup=values["is_backup"],
        )
        return Response(SittingDetailSerializer(target).data)


class SittingStudentView(UnitView):
    @extend_schema(parameters=[REASON], responses=REMOVED)
    def delete(self, request, unit, sitting, student):
        _school_unit, target = self.sitting(request, unit, sitting)
        person = selectors.access_sitting_student(sitting=target, public_id=student)
        return removed(
            sitting_remove_student,
            actor=request.user,
            sitting=target,
            person=person,
            reason=reason_of(request),
        )


class SittingProctorView(UnitView):
    @extend_schema(
        responses=REMOVED,
        description=_("Refused when it would leave the sitting without a (non-backup) proctor."),
    )
    def delete(self, request, unit, sitting, person):
        _school_unit, target = self.sitting(request, unit, sitting)
        proctor = selectors.access_sitting_proctor(sitting=target, public_id=person)
        return removed(sitting_remove_proctor, actor=request.user, sitting=target, person=proctor)


class SittingPostponeView(UnitView):
    @extend_schema(
        request=PostponeRequestSerializer,
        responses={201: SittingDetailSerializer, 400: RefusalSerializer},
    )
    def post(self, request, unit, sitting):
        school_unit, target = self.sitting(request, unit, sitting)
        values = validated(PostponeRequestSerializer, request)
        new = sitting_postpone(
            actor=request.user,
            sitting=target,
            starts_at=values["starts_at"],
            reason=values["reason"],
            room=optional_room(request, school_unit, values.get("room")),
        )
        return Response(SittingDetailSerializer(new).data, status=status.HTTP_201_CREATED)


class PaperReplacementView(UnitView):
    @extend_schema(
        request=PaperReplacementRequestSerializer, responses={201: None, 400: RefusalSerializer}
    )
    def post(self, request, unit, sitting):
        school_unit, target = self.sitting(request, unit, sitting)
        values = validated(PaperReplacementRequestSerializer, request)
        person = enrolled_students(request, school_unit, [values["student"]])[0]
        paper_replacement_record(
            actor=request.user,
            school_unit=school_unit,
            subtest=target.subtest,
            person=person,
            note=values["note"],
        )
        return Response(status=status.HTTP_201_CREATED)


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
