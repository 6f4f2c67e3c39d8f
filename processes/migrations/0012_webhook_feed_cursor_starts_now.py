"""The webhooks' feed position starts at the end of the existing history: subscriptions receive what
happens from now on, and the first addressing run does not read years of events."""

from django.db import migrations


def forwards(apps, schema_editor):
    from processes import feed

    FeedCursor = apps.get_model("processes", "FeedCursor")
    CaseEvent = apps.get_model("processes", "CaseEvent")
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(feed._HORIZON)
            position = (int(cursor.fetchone()[0]), 0)
    else:
        last = CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        position = (0, last or 0)
    FeedCursor.objects.get_or_create(name="webhooks", defaults={"position": feed.encode(position)})


class Migration(migrations.Migration):
    dependencies = [("processes", "0011_idempotency_keys")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
