from django.db import migrations

# Writes to these tables change what a user may do: permissions (directly and through groups) and
# department memberships. Processes keep both in memory under the configuration stamp.
TABLES = [
    "departments_membership",
    "auth_user_groups",
    "auth_user_user_permissions",
    "auth_group_permissions",
]


# Created again with the triggers' current body (SQLite's no longer loses the change under an
# outer INSERT OR IGNORE).
EARLIER = [
    "departments_businesscalendar",
    "departments_workinghours",
    "departments_calendarexception",
    "departments_department",
    "processes_serviceprocess",
    "processes_stage",
    "processes_stagetarget",
    "processes_transition",
]


def forwards(apps, schema_editor):
    from departments import stamp_triggers

    stamp_triggers.create(schema_editor, EARLIER + TABLES)


def backwards(apps, schema_editor):
    from departments import stamp_triggers

    stamp_triggers.drop(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("departments", "0005_config_stamp"),
        ("processes", "0004_outbox_facts_and_config_stamp"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
