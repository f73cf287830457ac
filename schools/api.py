"""REST API for school units, their students, staff, teaching groups and role assignments.

Thin: every queryset comes from schools.selectors (scoped to the caller's school units; another
school's unit answers 404) and every write goes through schools.services. Civic numbers are never
part of these responses.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from provplattform.errors import NotFound
from schools import selectors
from schools.models import Person, RoleAssignment, SchoolUnit, TeachingGroup
from schools.roles import ROLE_CHOICES, Capability, Role
from schools.services import RoleRefused, role_assign, role_remove

# --- Serializers ---------------------------------------------------------------------------------


class SchoolUnitSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organiser = serializers.CharField(source="organiser.name", read_only=True)

    class Meta:
        model = SchoolUnit
        fields = ["id", "name", "school_unit_code", "school_types", "organiser"]


class StudentSerializer(serializers.ModelSerializer):
    """Protected-identity students carry only their id and name."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    school_year = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Person
        fields = ["id", "given_name", "family_name", "school_year", "protected_identity"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.protected_identity:
            data["school_year"] = None
        return data


class StaffSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = ["id", "given_name", "family_name", "roles"]

    def get_roles(self, obj) -> list[str]:
        return [a.role for a in obj.unit_roles]


class TeachingGroupSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    members: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="public_id", many=True, read_only=True
    )
    teachers: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="public_id", many=True, read_only=True
    )

    class Meta:
        model = TeachingGroup
        fields = ["id", "name", "group_type", "school_year", "members", "teachers"]


class RoleAssignmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    person = serializers.UUIDField(source="person.public_id", read_only=True)
    person_name = serializers.CharField(source="person.full_name", read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ["id", "person", "person_name", "role", "source", "created"]


class RoleAssignmentCreateSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    role = serializers.ChoiceField(choices=ROLE_CHOICES)


# --- Views ---------------------------------------------------------------------------------------


class SchoolUnitList(generics.ListAPIView):
    """School units the caller holds a role at (or administers as the organiser)."""

    serializer_class = SchoolUnitSerializer

    def get_queryset(self):
        return selectors.school_units_visible_to(self.request.user).order_by("name")


class SchoolUnitDetail(generics.RetrieveAPIView):
    serializer_class = SchoolUnitSerializer

    def get_object(self):
        return selectors.access_visible_school_unit(
            user=self.request.user, public_id=self.kwargs["unit"]
        )


class _UnitScopedList(generics.ListAPIView):
    capability: Capability

    def unit(self) -> SchoolUnit:
        return selectors.access_school_unit(
            user=self.request.user, public_id=self.kwargs["unit"], capability=self.capability
        )


@extend_schema(
    parameters=[OpenApiParameter("search", OpenApiTypes.STR, description="Part of a name")]
)
class StudentList(_UnitScopedList):
    serializer_class = StudentSerializer
    capability = Capability.VIEW_STUDENTS

    def get_queryset(self):
        search = self.request.query_params.get("search", "").strip()[:100]
        return selectors.students_with_year(
            user=self.request.user, school_unit=self.unit(), search=search
        )


class StaffList(_UnitScopedList):
    serializer_class = StaffSerializer
    capability = Capability.VIEW_STAFF

    def get_queryset(self):
        return selectors.staff_with_roles(user=self.request.user, school_unit=self.unit())


class TeachingGroupList(_UnitScopedList):
    serializer_class = TeachingGroupSerializer
    capability = Capability.VIEW_STUDENTS

    def get_queryset(self):
        return selectors.teaching_groups_of(user=self.request.user, school_unit=self.unit())


class RoleAssignmentList(_UnitScopedList):
    """List the unit's role assignments; POST gives a role (refusals explain why, in words)."""

    serializer_class = RoleAssignmentSerializer
    capability = Capability.VIEW_STAFF

    def get_queryset(self):
        return selectors.role_assignments_of(user=self.request.user, school_unit=self.unit())

    @extend_schema(
        request=RoleAssignmentCreateSerializer, responses={201: RoleAssignmentSerializer}
    )
    def post(self, request, unit):
        school_unit = self.unit()
        data = RoleAssignmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = selectors.person_of_unit(
            school_unit=school_unit, public_id=data.validated_data["person"]
        )
        try:
            assignment = role_assign(
                actor=request.user,
                person=person,
                school_unit=school_unit,
                role=Role(data.validated_data["role"]),
            )
        except RoleRefused as refusal:
            raise PermissionDenied(str(refusal)) from refusal
        return Response(RoleAssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)


class RoleAssignmentDetail(APIView):
    serializer_class = RoleAssignmentSerializer

    def _assignment(self, request, unit, assignment) -> tuple[SchoolUnit, RoleAssignment]:
        school_unit = selectors.access_school_unit(
            user=request.user, public_id=unit, capability=Capability.VIEW_STAFF
        )
        found = (
            selectors.role_assignments_of(user=request.user, school_unit=school_unit)
            .filter(public_id=assignment)
            .first()
        )
        if found is None:
            raise NotFound("No such role assignment.")
        return school_unit, found

    @extend_schema(responses={200: RoleAssignmentSerializer})
    def get(self, request, unit, assignment):
        _unit, found = self._assignment(request, unit, assignment)
        return Response(RoleAssignmentSerializer(found).data)

    @extend_schema(responses={204: None})
    def delete(self, request, unit, assignment):
        school_unit, found = self._assignment(request, unit, assignment)
        try:
            role_remove(
                actor=request.user, person=found.person, school_unit=school_unit, role=found.role
            )
        except RoleRefused as refusal:
            raise PermissionDenied(str(refusal)) from refusal
        return Response(status=status.HTTP_204_NO_CONTENT)
