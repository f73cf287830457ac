"""Övrig skolpersonal has no permissions until given another role: take back the connectivity
permission that 0002 granted from users whose only role at a unit is Övrig skolpersonal. Users
with another role there keep it, since every other role grants it."""

from django.db import migrations


def revoke(apps, schema_editor):
    RoleAssignment = apps.get_model("schools", "RoleAssignment")
    User = apps.get_model("schools", "User")
    UnitPermission = apps.get_model("schools", "SchoolUnitUserObjectPermission")
    held: dict[tuple[int, int], set[str]] = {}
    for person, unit, role in RoleAssignment.objects.values_list(
        "person_id", "school_unit_id", "role"
    ):
        held.setdefault((person, unit), set()).add(role)
    only_other_staff = {pair for pair, roles in held.items() if roles == {"other_staff"}}
    if not only_other_staff:
        return
    users = dict(
        User.objects.filter(person_id__in={p for p, _u in only_other_staff}).values_list(
            "pk", "person_id"
        )
    )
    stale = [
        pk
        for pk, user, unit in UnitPermission.objects.filter(
            user_id__in=list(users), permission__codename="view_connectivity"
        ).values_list("pk", "user_id", "content_object_id")
        if (users[user], unit) in only_other_staff
    ]
    for start in range(0, len(stale), 5000):
        UnitPermission.objects.filter(pk__in=stale[start : start + 5000]).delete()


class Migration(migrations.Migration):
    dependencies = [("schools", "0004_transfer_activity")]

    operations = [migrations.RunPython(revoke, migrations.RunPython.noop)]
