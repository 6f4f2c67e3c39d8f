"""Every DRF authtoken key becomes a hashed API key of its user (the integration keeps working with
the key it has), and the clear-text rows are deleted."""

import hashlib
import secrets
from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiKey = apps.get_model("departments", "ApiKey")
    now = timezone.now()
    for token in Token.objects.all().iterator():
        ApiKey.objects.get_or_create(
            key_hash=hashlib.sha256(token.key.encode()).hexdigest(),
            defaults={
                "user_id": token.user_id,
                "name": "migrated",
                "prefix": f"m{secrets.token_hex(4)}",  # nothing of the key itself
                "created_at": token.created,
                "expires_at": now + timedelta(days=90),
            },
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0010_api_keys"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
