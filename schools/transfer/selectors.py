"""Reads of transfer runs and tokens, scoped to who is asking.

An organiser administrator sees every run of their organisers and is the only one who may upload
a spreadsheet (for the whole organiser or one of its units); a school's administrator (who may
assign roles at a unit) sees the runs that were uploaded for that unit; an organiser system (API
token) sees its organiser's runs. Anything else answers 404, the same as a missing run.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet, Subquery
from django.db.models.fields.json import KT

from provplattform.lookup import get_by_public_id
from schools.models import (
    AnyUser,
    OrganiserAdministrator,
    OrganiserApiToken,
    SchoolUnit,
    TransferRun,
)
from schools.roles import Capability
from schools.selectors import school_units_for


def organisers_administered_by(user: AnyUser | None) -> QuerySet:
    if user is None or not user.is_authenticated:
        return OrganiserAdministrator.objects.none().values("organiser_id")
    return OrganiserAdministrator.objects.filter(user_id=user.pk).values("organiser_id")


def is_organiser_admin(user: AnyUser) -> bool:
    return organisers_administered_by(user).exists()


def upload_units_for(user: AnyUser) -> QuerySet:
    """School units this user may upload a spreadsheet for: those of the organisers they
    administer. School staff never upload: only persons the organiser transferred hold roles."""
    return SchoolUnit.objects.filter(
        organiser_id__in=Subquery(organisers_administered_by(user)), removed_at__isnull=True
    )


def run_units_for(user: AnyUser) -> QuerySet:
    """School units whose spreadsheet runs this user may read (ASSIGN_ROLES there)."""
    return school_units_for(user, Capability.ASSIGN_ROLES).filter(removed_at__isnull=True)


def runs_for_user(user: AnyUser) -> QuerySet:
    return TransferRun.objects.filter(
        Q(organiser_id__in=Subquery(organisers_administered_by(user)))
        | Q(school_unit__in=run_units_for(user))
    ).select_related("organiser", "school_unit")


def access_run(*, user: AnyUser, public_id) -> TransferRun:
    return get_by_public_id(runs_for_user(user), public_id, "No such transfer run.")


def runs_for_token(token: OrganiserApiToken) -> QuerySet:
    return TransferRun.objects.filter(organiser_id=token.organiser_id)


def access_run_for_token(*, token: OrganiserApiToken, public_id) -> TransferRun:
    return get_by_public_id(runs_for_token(token), public_id, "No such transfer run.")


def tokens_for_user(user: AnyUser) -> QuerySet:
    return OrganiserApiToken.objects.filter(
        organiser_id__in=Subquery(organisers_administered_by(user))
    ).select_related("organiser")


def access_token(*, user: AnyUser, public_id) -> OrganiserApiToken:
    return get_by_public_id(tokens_for_user(user), public_id, "No such token.")


def access_unit_for_upload(*, user: AnyUser, public_id) -> SchoolUnit:
    return get_by_public_id(upload_units_for(user), public_id, "No such school unit.")


def runs_summarised(runs: QuerySet) -> QuerySet:
    """Runs for a list: without their document and report (either may be large), with the
    report's totals as `rejected_count` and `flag_count` (None for runs from before they were
    kept)."""
    return runs.defer("payload", "report").annotate(
        rejected_count=KT("report__rejected_total"), flag_count=KT("report__flag_total")
    )
