"""Tenancy: organisers, school units, people and what ties them together (SS 12000 names)."""

from __future__ import annotations

from typing import TypeAlias

from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from provplattform.models import StampedModel
from schools.civic_numbers import mask_civic_number
from schools.roles import ROLE_CHOICES, Capability


class Country(models.TextChoices):
    SWEDEN = "SE", _("Sweden")
    NORWAY = "NO", _("Norway")


class User(AbstractUser):
    """A login. Staff and students are Persons; a Person may have one User."""

    person = models.OneToOneField(
        "schools.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="user"
    )
    is_platform_operator = models.BooleanField(
        default=False, help_text=_("Publishes tests and posts service announcements.")
    )
    # Failed logins are counted per account (a whole school shares one address).
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)


# Whoever a read is for: a signed-in user, or an anonymous one (`request.user` before a login),
# to whom the selectors show nothing.
AnyUser: TypeAlias = "User | AnonymousUser"


class Organiser(StampedModel):
    """Huvudman / skoleeier."""

    external_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    organisation_number = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, choices=Country.choices, default=Country.SWEDEN)
    time_zone = models.CharField(max_length=40, default="Europe/Stockholm")
    first_transfer_at = models.DateTimeField(null=True, blank=True)
    last_transfer_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SchoolUnit(StampedModel):
    """Skolenhet. Everything a school's staff may see is inside one of these."""

    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="school_units")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    school_unit_code = models.CharField(max_length=20, unique=True)
    school_types = models.JSONField(default=list, blank=True)  # e.g. ["GR"], SS 12000 schoolTypes
    municipality_code = models.CharField(max_length=10, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organiser", "external_id"], name="unit_ext_id_unique")
        ]
        default_permissions = ()
        permissions = [(c.value, c.value.replace("_", " ")) for c in Capability]

    def __str__(self) -> str:
        return self.name


class Person(StampedModel):
    """A student or a member of staff, as the organiser transferred them."""

    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT, related_name="persons")
    external_id = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    civic_number = models.CharField(max_length=12, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    eppn = models.CharField(_("eduPersonPrincipalName"), max_length=200, blank=True)
    email = models.EmailField(blank=True)
    protected_identity = models.BooleanField(
        default=False, help_text=_("Skyddade personuppgifter: show as little as possible.")
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organiser", "external_id"], name="person_ext_id_unique"
            ),
            models.UniqueConstraint(
                fields=["eppn"], condition=~Q(eppn=""), name="person_eppn_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def masked_civic_number(self) -> str:
        return mask_civic_number(self.civic_number)


class Enrolment(StampedModel):
    """A student's enrolment in a school unit."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="enrolments")
    school_unit = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE, related_name="enrolments")
    external_id = models.CharField(max_length=100, blank=True)
    school_type = models.CharField(max_length=10, blank=True)
    school_year = models.PositiveSmallIntegerField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "school_unit"], name="enrolment_unique")
        ]
        indexes = [models.Index(fields=["school_unit", "school_year"])]


class Duty(StampedModel):
    """A member of staff's duty at a school unit, with its SS 12000 dutyRole."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="duties")
    school_unit = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE, related_name="duties")
    external_id = models.CharField(max_length=100)
    duty_role = models.CharField(max_length=60)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school_unit", "external_id"], name="duty_ext_id_unique"
            )
        ]
        verbose_name_plural = "duties"


class TeachingGroup(StampedModel):
    """Undervisningsgrupp."""

    school_unit = models.ForeignKey(
        SchoolUnit, on_delete=models.CASCADE, related_name="teaching_groups"
    )
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    group_type = models.CharField(max_length=40, default="Undervisning")
    school_year = models.PositiveSmallIntegerField(null=True, blank=True)
    members = models.ManyToManyField(Person, through="GroupMembership", related_name="groups")
    teachers = models.ManyToManyField(Person, blank=True, related_name="taught_groups")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school_unit", "external_id"], name="group_ext_id_unique"
            )
        ]
        default_permissions = ()
        permissions = [(Capability.VIEW_GROUP_RESULTS.value, "view group results")]

    def __str__(self) -> str:
        return self.name


class Activity(StampedModel):
    """An SS 12000 activity as last transferred: the teacher links (group id, person id) it gave,
    so that deleting the activity takes away exactly those links."""

    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="activities")
    external_id = models.CharField(max_length=100)
    links = models.JSONField(default=list)

    class Meta:
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(
                fields=["organiser", "external_id"], name="activity_ext_id_unique"
            )
        ]


class GroupMembership(models.Model):
    group = models.ForeignKey(TeachingGroup, on_delete=models.CASCADE)
    person = models.ForeignKey(Person, on_delete=models.CASCADE)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "person"], name="membership_unique")
        ]


class RoleSource(models.TextChoices):
    TRANSFER = "transfer", _("From the organiser's transfer")
    MANUAL = "manual", _("Assigned at the school")


class RoleAssignment(StampedModel):
    """One of the eight roles held by a transferred person at a school unit."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="role_assignments")
    school_unit = models.ForeignKey(
        SchoolUnit, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(max_length=30, choices=ROLE_CHOICES)
    source = models.CharField(max_length=10, choices=RoleSource.choices, default=RoleSource.MANUAL)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "school_unit", "role"], name="role_assignment_unique"
            )
        ]


class OrganiserAdministrator(StampedModel):
    """Manages the organiser's transfers and API tokens; sees its school units."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organiser_admin_of"
    )
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="admins")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organiser"], name="organiser_admin_unique")
        ]


class OrganiserApiToken(StampedModel):
    """A per-organiser API token; only a hash is stored, the token is shown once."""

    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class TransferSource(models.TextChoices):
    API = "api", _("API (SS 12000)")
    XLSX = "xlsx", _("Spreadsheet upload")


class TransferStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")


class TransferRun(StampedModel):
    """One transfer of user data from the organiser, applied in full or rejected with reasons."""

    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="transfer_runs")
    source = models.CharField(max_length=10, choices=TransferSource.choices)
    status = models.CharField(
        max_length=10, choices=TransferStatus.choices, default=TransferStatus.QUEUED
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when the organiser's administrator uploaded for one unit: the run only touches that unit.
    school_unit = models.ForeignKey(
        SchoolUnit, null=True, blank=True, on_delete=models.CASCADE, related_name="transfer_runs"
    )
    api_token = models.ForeignKey(
        OrganiserApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    payload = models.JSONField(null=True, blank=True)
    upload = models.FileField(upload_to="transfers/", blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"counts": {...}, "rejected": [{"record", "field", "message"}], "flags": [...]}
    report = models.JSONField(default=dict, blank=True)
    # The submitter's language: the job writes the report's reasons in it.
    language = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["-created"]


# Guardian object permissions with direct foreign keys (faster than the generic tables).
class SchoolUnitUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE)


class SchoolUnitGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(SchoolUnit, on_delete=models.CASCADE)


class TeachingGroupUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(TeachingGroup, on_delete=models.CASCADE)


class TeachingGroupGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(TeachingGroup, on_delete=models.CASCADE)
