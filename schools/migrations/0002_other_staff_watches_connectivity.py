"""Övrig skolpersonal may now open the connectivity page: grant the permission to those who
already hold the role (the role services keep it in step from here on)."""

from django.db import migrations


def grant(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    RoleAssignment = apps.get_model("schools", "RoleAssignment")
    User = apps.get_model("schools", "User")
    UnitPermission = apps.get_model("schools", "SchoolUnitUserObjectPermission")
    permission = Permission.objects.filter(
        content_type__app_label="schools",
        content_type__model="schoolunit",
        codename="view_connectivity",
    ).first()
    if permission is None:  # a new database: no one holds a role yet
        return
    holders = RoleAssignment.objects.filter(role="other_staff").values_list(
        "person_id", "school_unit_id"
    )
    users = dict(
        User.objects.filter(person_id__in={p for p, _ in holders}).values_list("person_id", "pk")
    )
    UnitPermission.objects.bulk_create(
        [
            UnitPermission(user_id=users[person], permission=permission, content_object_id=unit)
            for person, unit in holders
            if person in users
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("schools", "0001_initial")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
