"""Rooms of a school unit, where its sittings take place."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from exams import selectors
from exams.api.base import REMOVED, UnitView, removed, validated
from exams.api.serializers import RefusalSerializer, RoomSerializer
from exams.preparation.rooms import room_create, room_delete


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
        values = validated(RoomSerializer, request)
        room = room_create(actor=request.user, school_unit=school_unit, name=values["name"])
        return Response(RoomSerializer(room).data, status=status.HTTP_201_CREATED)


class RoomDetailView(UnitView):
    @extend_schema(responses=REMOVED, description=_("Refused while a sitting uses the room."))
    def delete(self, request, unit, room):
        school_unit = self.unit(request, unit)
        target = selectors.access_room(user=request.user, school_unit=school_unit, public_id=room)
        return removed(room_delete, actor=request.user, room=target)
