"""Serializers more than one module of the preparation API answers with."""

from __future__ import annotations

from rest_framework import serializers


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
