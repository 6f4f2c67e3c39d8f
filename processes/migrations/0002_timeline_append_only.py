"""On PostgreSQL the database itself refuses UPDATE and DELETE on the case timeline, so that not even
raw SQL or a future bug in the application can rewrite what auditors read. TRUNCATE stays possible
for the database owner (it is how test databases are emptied). SQLite, the zero-setup default, relies
on the application guard alone."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION baton_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS processes_caseevent_append_only ON processes_caseevent;
CREATE TRIGGER processes_caseevent_append_only
    BEFORE UPDATE OR DELETE ON processes_caseevent
    FOR EACH ROW EXECUTE FUNCTION baton_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS processes_caseevent_append_only ON processes_caseevent;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("processes", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
