"""The audit table becomes append-only in the database itself (PostgreSQL): an UPDATE or DELETE
is refused by a trigger, so `QuerySet.update()`, `.delete()` or raw SQL cannot rewrite history.

The one change let through is the actor's removal (`actor_id` set to NULL and nothing else): the
foreign key's ON DELETE SET NULL, when a user account is deleted. SQLite (the embedded default)
has no such trigger; `AuditEvent.save()` refuses updates there as everywhere.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION provplattform_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (%% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER provplattform_auditevent_append_only
    BEFORE UPDATE OR DELETE ON provplattform_auditevent
    FOR EACH ROW EXECUTE FUNCTION provplattform_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS provplattform_auditevent_append_only ON provplattform_auditevent;
DROP FUNCTION IF EXISTS provplattform_auditevent_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("provplattform", "0002_initial")]

    operations = [migrations.RunPython(create, drop)]
