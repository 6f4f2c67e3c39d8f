"""API keys fit for a bank: hashed at rest, several named keys per user, expiry, last use, revocation
taking effect at once, and the old clear-text authtoken keys migrated."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from departments.api_keys import api_key_issue, api_key_revoke
from departments.models import ApiKey

pytestmark = pytest.mark.django_db


def _get(key: str, path: str = "/api/v1/cases/"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(path)


def test_a_stolen_copy_of_the_keys_table_authenticates_nothing(org):
    keys = [
        api_key_issue(username=u).key for u in ("call_center_agent", "card_center_agent", "quality_officer")
    ]
    stolen = list(ApiKey.objects.values())

    # Nothing of the table is the key or lets one act
    for row in stolen:
        for value in row.values():
            assert str(value) not in keys
        for guess in (row["key_hash"], row["prefix"], f"bk_{row['prefix']}_{row['key_hash']}"):
            assert _get(guess).status_code == 401
    assert all(_get(k).status_code == 200 for k in keys)


def test_several_named_keys_per_user_each_revocable_alone(org):
    crm = api_key_issue(username="call_center_agent", name="crm")
    ivr = api_key_issue(username="call_center_agent", name="ivr")

    assert _get(crm.key).status_code == _get(ivr.key).status_code == 200
    api_key_revoke(username="call_center_agent", name="crm")

    assert _get(crm.key).status_code == 401  # at once: nothing is cached
    assert _get(ivr.key).status_code == 200


def test_an_expired_key_is_401_at_once(org):
    issued = api_key_issue(username="call_center_agent", expires_at=timezone.now() + timedelta(minutes=5))
    assert _get(issued.key).status_code == 200

    ApiKey.objects.filter(pk=issued.api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert _get(issued.key).status_code == 401


def test_last_use_is_recorded(org):
    issued = api_key_issue(username="call_center_agent")
    assert issued.api_key.last_used_at is None

    _get(issued.key)

    issued.api_key.refresh_from_db()
    assert issued.api_key.last_used_at is not None


def test_a_key_of_an_inactive_user_is_401(org, user):
    issued = api_key_issue(username="call_center_agent")
    person = user("call_center_agent")
    person.is_active = False
    person.save(update_fields=["is_active"])

    assert _get(issued.key).status_code == 401


def test_existing_authtoken_keys_are_migrated_to_hashes_and_keep_working(org, user):
    old = Token.objects.create(user=user("card_center_agent")).key
    migration = importlib.import_module("departments.migrations.0011_migrate_authtoken_keys")

    migration.forwards(apps, None)

    assert not Token.objects.exists()
    row = ApiKey.objects.get(name="migrated")
    assert old not in str(list(ApiKey.objects.values()))
    assert row.user.username == "card_center_agent"
    assert _get(old).status_code == 200
