from django.db import migrations

# Whether any webhook subscription is active is kept in memory under the configuration stamp.
TABLES = ["processes_webhooksubscription"]


def forwards(apps, schema_editor):
    from departments import stamp_triggers

    stamp_triggers.create(schema_editor, TABLES)


def backwards(apps, schema_editor):
    from departments import stamp_triggers

    stamp_triggers.drop(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("processes", "0012_webhook_feed_cursor_starts_now")]

    operations = [migrations.RunPython(forwards, backwards)]
