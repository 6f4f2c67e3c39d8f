"""On PostgreSQL the database refuses UPDATE and DELETE on the audit log (as on the case timeline)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION baton_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS departments_auditentry_append_only ON departments_auditentry;
CREATE TRIGGER departments_auditentry_append_only
    BEFORE UPDATE OR DELETE ON departments_auditentry
    FOR EACH ROW EXECUTE FUNCTION baton_refuse_change();
"""

DROP = "DROP TRIGGER IF EXISTS departments_auditentry_append_only ON departments_auditentry;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("departments", "0003_audit_log")]

    operations = [migrations.RunPython(forwards, backwards)]
