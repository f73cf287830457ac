"""REST endpoint for organiser systems: POST an SS 12000 document, follow the run.

Authentication: `Authorization: Bearer <token>` with a per-organiser API token.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import authentication, exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from schools.models import OrganiserApiToken, TransferSource, TransferStatus
from schools.transfer.selectors import access_run_for_token, runs_for_token, runs_summarised
from schools.transfer.services import (
    transfer_run_progress,
    transfer_runs_fail_stale,
    transfer_submit,
)
from schools.transfer.tokens import api_token_authenticate

MAX_DOCUMENT_BYTES = 200 * 1024 * 1024


class OrganiserTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer pp_…`: the request acts for the token's organiser (no user)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        token = api_token_authenticate(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return (OrganiserSystem(token), token)

    def authenticate_header(self, request):
        return self.keyword


class OrganiserSystem:
    """The caller behind an API token: an organiser's system, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None

    def __init__(self, token: OrganiserApiToken) -> None:
        self.token = token
        self.organiser = token.organiser

    def __str__(self) -> str:
        return f"API token {self.token.name}"


class HasOrganiserToken(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, OrganiserApiToken)


class OrganiserTokenScheme(OpenApiAuthenticationExtension):
    target_class = OrganiserTokenAuthentication
    name = "organiserToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Per-organiser API token (created by an organiser administrator).",
        }


class RejectionSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()
    field = serializers.CharField()
    message = serializers.CharField()
    row = serializers.CharField(required=False)


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    phase = serializers.CharField()


REJECTED_PAGE = 100


class _RunFields(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    source = serializers.ChoiceField(choices=TransferSource.choices)
    status = serializers.ChoiceField(choices=TransferStatus.choices)
    created = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class RunSummarySerializer(_RunFields):
    """A run in a list: never its report (see the run's own address for that)."""

    rejected_count = serializers.IntegerField(
        allow_null=True, help_text="rejected records (null for runs before it was kept)"
    )
    flag_count = serializers.IntegerField(allow_null=True)


class RunSerializer(_RunFields):
    progress = serializers.SerializerMethodField()
    report = serializers.SerializerMethodField(
        help_text=(
            "counts per kind (created/updated/unchanged/removed), flags, rejected_total and a "
            "page of `rejected` (query parameters offset and limit); rejected records beyond "
            "the first 200 are counted per kind and field in rejected_more"
        )
    )

    def get_progress(self, run) -> ProgressSerializer:
        return transfer_run_progress(run)

    def get_report(self, run) -> dict:
        report = dict(run.report or {})
        page = self.context.get("page", (0, REJECTED_PAGE))
        report["rejected"] = list(report.get("rejected", []))[page[0] : page[0] + page[1]]
        return report


class SubmittedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    status_url = serializers.URLField()


DOCUMENT_EXAMPLE = {
    "organisations": [
        {
            "id": "b60a032a-afbc-595c-b167-b8b767be0e23",
            "displayName": "Mumin grundskola",
            "organisationType": "Skolenhet",
            "schoolUnitCode": "12345678",
            "schoolTypes": ["GR"],
        }
    ],
    "persons": [],
    "groups": [],
    "duties": [],
    "activities": [],
    "deletedEntities": {"persons": []},
}


class TransferSubmitView(APIView):
    authentication_classes = [OrganiserTokenAuthentication]
    permission_classes = [HasOrganiserToken]

    @extend_schema(
        operation_id="transfer_submit",
        summary="Submit a transfer document (SS 12000 JSON)",
        description=(
            "One JSON object with `organisations`, `persons`, `groups`, `duties`, `activities` "
            "(each a list of SS 12000 records) and `deletedEntities` (lists of ids per kind). "
            "The run is queued and applied in full, or rejected with every reason. "
            "See docs/transfer.md."
        ),
        request={"application/json": OpenApiTypes.OBJECT},
        responses={202: SubmittedSerializer},
        examples=[OpenApiExample("document", value=DOCUMENT_EXAMPLE, request_only=True)],
        tags=["transfer"],
    )
    def post(self, request):
        # The raw body is stored as sent; a broken document is reported by the run, not here.
        body = request._request.read(MAX_DOCUMENT_BYTES + 1)
        if len(body) > MAX_DOCUMENT_BYTES:
            return Response(
                {"detail": _("The document is too large.")},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Replacing the bytes would store names the organiser never sent.
            return Response(
                {
                    "detail": _(
                        "The document is not valid UTF-8 (first invalid byte at position "
                        "%(position)s). Send SS 12000 JSON encoded as UTF-8."
                    )
                    % {"position": exc.start}
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        if "\x00" in text:
            # JSON allows no raw NUL anywhere, and no column can keep one: refused here, since
            # the run could not even store the document to report on it.
            return Response(
                {"detail": _("The document contains a NUL character; send SS 12000 JSON.")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        token: OrganiserApiToken = request.auth
        run = transfer_submit(
            organiser=token.organiser,
            source=TransferSource.API,
            payload={"text": text},
            api_token=token,
        )
        url = request.build_absolute_uri(
            reverse("api-transfer-run", kwargs={"public_id": run.public_id})
        )
        return Response(
            {"id": str(run.public_id), "status": run.status, "status_url": url},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": url},
        )


class TransferRunListView(APIView):
    authentication_classes = [OrganiserTokenAuthentication]
    permission_classes = [HasOrganiserToken]

    @extend_schema(
        operation_id="transfer_runs_list",
        summary="The organiser's transfer runs, newest first (last 100)",
        responses={200: RunSummarySerializer(many=True)},
        tags=["transfer"],
    )
    def get(self, request):
        transfer_runs_fail_stale(runs=runs_for_token(request.auth))
        runs = runs_summarised(runs_for_token(request.auth)).order_by("-created")[:100]
        return Response(RunSummarySerializer(runs, many=True).data)


class TransferRunDetailView(APIView):
    authentication_classes = [OrganiserTokenAuthentication]
    permission_classes = [HasOrganiserToken]

    @extend_schema(
        operation_id="transfer_run_retrieve",
        summary="Status, progress and report of one transfer run",
        parameters=[
            OpenApiParameter("offset", int, description="first rejected record of the page"),
            OpenApiParameter(
                "limit", int, description=f"rejected records per page (at most {REJECTED_PAGE})"
            ),
        ],
        responses={200: RunSerializer},
        tags=["transfer"],
    )
    def get(self, request, public_id):
        run = access_run_for_token(token=request.auth, public_id=public_id)
        if run.status == TransferStatus.RUNNING and transfer_runs_fail_stale(
            runs=runs_for_token(request.auth).filter(pk=run.pk)
        ):
            run.refresh_from_db()
        page = (
            _number(request, "offset", 0),
            min(_number(request, "limit", REJECTED_PAGE), REJECTED_PAGE),
        )
        return Response(RunSerializer(run, context={"page": page}).data)


def _number(request, name: str, default: int) -> int:
    value = request.query_params.get(name, "")
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else default
