"""The day password a unit's students sign in to a sitting with."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from exams import day_passwords
from exams.api.base import UnitView
from schools.roles import Capability


class DayPasswordSerializer(serializers.Serializer):
    date = serializers.DateField()
    password = serializers.CharField()


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
