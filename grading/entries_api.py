"""REST API of off-platform and paper results: the sheet of a group, entries typed in, and
uploaded forms checked first and applied on confirmation."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from grading import entries_services as svc
from grading.desk_api import DeskRefusalSerializer
from grading.entries_views import access_entry_import
from grading.entries_xlsx import MAX_UPLOAD_BYTES


class EntriesView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def unit(self, request, unit):
        return svc.access_entry_unit(user=request.user, public_id=unit)


class SheetRowSerializer(serializers.Serializer):
    student = serializers.UUIDField()
    student_name = serializers.CharField()
    subtest = serializers.UUIDField()
    subtest_title = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source
    max_points = serializers.IntegerField(allow_null=True)
    points = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)


def _sheet_row(row: svc.SheetRow) -> dict:
    target, entry = row.target, row.entry
    return {
        "student": target.person.public_id,
        "student_name": target.person.full_name,
        "subtest": target.subtest.public_id,
        "subtest_title": target.subtest.title,
        "source": target.source,
        "max_points": target.max_points,
        "points": entry.points if entry else None,
        "version": entry.version if entry else None,
    }


class EntryInputSerializer(serializers.Serializer):
    student = serializers.UUIDField()
    subtest = serializers.UUIDField()
    points = serializers.JSONField()
    version = serializers.IntegerField(required=False, allow_null=True)


class EntriesSaveSerializer(serializers.Serializer):
    entries = EntryInputSerializer(many=True)


class ProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()
    letter = serializers.CharField(required=False)


class SavedSerializer(serializers.Serializer):
    changed = serializers.IntegerField()


class RefusedRowsSerializer(DeskRefusalSerializer):
    problems = ProblemSerializer(many=True)


class UploadSerializer(serializers.Serializer):
    group = serializers.UUIDField()
    file = serializers.FileField()


class EntryImportSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    status = serializers.CharField()
    rows = serializers.ListField(child=serializers.DictField())
    problems = ProblemSerializer(many=True)


class EntrySheetView(EntriesView):
    @extend_schema(
        summary="What may be entered for a group's students, and what is entered",
        parameters=[OpenApiParameter("group", str, description="Every student when left out.")],
        responses={200: SheetRowSerializer(many=True), 404: DeskRefusalSerializer},
    )
    def get(self, request, unit):
        school_unit = self.unit(request, unit)
        group = None
        if request.query_params.get("group"):
            group = svc.access_group(
                school_unit=school_unit, public_id=request.query_params["group"]
            )
        rows = svc.entry_sheet(school_unit=school_unit, group=group)
        return Response([_sheet_row(r) for r in rows])

    @extend_schema(
        summary="Enter points; all or nothing (a refused row or a stale version saves none)",
        request=EntriesSaveSerializer,
        responses={
            200: SavedSerializer,
            400: RefusedRowsSerializer,
            404: DeskRefusalSerializer,
            409: DeskRefusalSerializer,
        },
    )
    def put(self, request, unit):
        school_unit = self.unit(request, unit)
        body = EntriesSaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rows = [
            {"row": number, "student": e["student"], "subtest": e["subtest"],
             "points": e["points"],
             "version": "new" if e.get("version") is None else e["version"]}
            for number, e in enumerate(body.validated_data["entries"], start=1)
        ]  # fmt: skip
        try:
            changed = svc.entries_save(actor=request.user, school_unit=school_unit, rows=rows)
        except svc.EntriesRefused as exc:
            return Response(
                {"detail": str(exc), "code": exc.code, "problems": exc.problems}, status=400
            )
        return Response({"changed": changed})


class EntryImportsView(EntriesView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Upload a filled-in form: checked row by row, nothing applied yet",
        request={"multipart/form-data": UploadSerializer},
        responses={
            201: EntryImportSerializer,
            400: DeskRefusalSerializer,
            404: DeskRefusalSerializer,
        },
    )
    def post(self, request, unit):
        school_unit = self.unit(request, unit)
        group = svc.access_group(school_unit=school_unit, public_id=request.data.get("group"))
        upload = request.FILES.get("file")
        if upload is None:
            raise svc.EntriesRefused(_("Choose the filled-in form (.xlsx)."))
        checked = svc.entry_import_check(
            actor=request.user,
            school_unit=school_unit,
            group=group,
            file_name=upload.name,
            data=upload.read(MAX_UPLOAD_BYTES + 1),
        )
        return Response(EntryImportSerializer(checked).data, status=201)


class EntryImportApplyView(EntriesView):
    @extend_schema(
        summary="Apply a checked upload (its uploader only): one transaction, audited",
        request=None,
        responses={
            200: SavedSerializer,
            400: RefusedRowsSerializer,
            404: DeskRefusalSerializer,
            409: DeskRefusalSerializer,
        },
    )
    def post(self, request, unit, entry_import):
        school_unit = self.unit(request, unit)
        target = access_entry_import(
            user=request.user, school_unit=school_unit, public_id=entry_import
        )
        try:
            changed = svc.entry_import_apply(actor=request.user, entry_import=target)
        except svc.EntriesRefused as exc:
            return Response(
                {"detail": str(exc), "code": exc.code, "problems": exc.problems}, status=400
            )
        return Response({"changed": changed})
