"""What the modules of the preparation API share: the unit view and the lookups of its inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from exams import selectors
from exams.api.serializers import RefusalSerializer
from exams.preparation.common import ExamRefused
from schools.roles import Capability
from schools.selectors import access_school_unit

if TYPE_CHECKING:
    from exams.models import Room, Sitting, Subtest
    from schools.models import Person, SchoolUnit

ADMIN = Capability.ADMINISTER_TESTS


class UnitView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    capability: Capability = ADMIN

    def unit(self, request: Request, unit) -> SchoolUnit:
        return access_school_unit(user=request.user, public_id=unit, capability=self.capability)

    def sitting(self, request: Request, unit, sitting) -> tuple[SchoolUnit, Sitting]:
        """The unit and one of its sittings (another unit's sitting is not found)."""
        school_unit = self.unit(request, unit)
        target = selectors.access_sitting(
            user=request.user, school_unit=school_unit, public_id=sitting
        )
        return school_unit, target


def validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request body as `serializer_class` validates it (a 400 naming the fields otherwise)."""
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


def staff_person(school_unit: SchoolUnit, public_id) -> Person:
    """A person of the unit (another unit's is not found); services refuse those who may not
    take the part."""
    return selectors.access_staff_member(school_unit=school_unit, public_id=public_id)


def enrolled_students(
    request: Request, school_unit: SchoolUnit, ids: list, capability: Capability = ADMIN
) -> list[Person]:
    """The students `ids` names, all of them enrolled at the unit, or a refusal."""
    found = selectors.persons_at(
        user=request.user, school_unit=school_unit, public_ids=ids, capability=capability
    )
    if len(found) != len(set(ids)):
        raise ExamRefused(_("Not enrolled at this school unit."))
    return found


def optional_subtest(school_unit: SchoolUnit, public_id) -> Subtest | None:
    """The unit's subtest `public_id` names, or None when none is named."""
    if not public_id:
        return None
    return selectors.access_subtest(school_unit=school_unit, public_id=public_id)


def optional_room(request: Request, school_unit: SchoolUnit, public_id) -> Room | None:
    """The unit's room `public_id` names (another unit's room is a 404), or None."""
    if not public_id:
        return None
    return selectors.access_room(user=request.user, school_unit=school_unit, public_id=public_id)


def room_param(request: Request, school_unit: SchoolUnit) -> Room | None:
    """The `room` query parameter as a room of the unit."""
    return optional_room(request, school_unit, request.query_params.get("room"))


REASON = OpenApiParameter(
    "reason",
    str,
    description=_(
        "Why, kept in the audit log (also accepted as `reason` in a JSON body). Required to "
        "withdraw an exemption and to remove an adjustment after the student has started."
    ),
)


def reason_of(request: Request) -> str:
    value = request.query_params.get("reason")
    if value is None and hasattr(request.data, "get"):
        value = request.data.get("reason")
    return str(value or "").strip()[:500]


def removed(remove: Callable[..., Any], **kwargs: Any) -> Response:
    """Run a removal service: 204 when done (a refusal answers 400 at the edge)."""
    remove(**kwargs)
    return Response(status=status.HTTP_204_NO_CONTENT)


REMOVED = {204: None, 400: RefusalSerializer}
