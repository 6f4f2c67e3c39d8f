"""API keys: several named keys per user, stored as SHA-256 hashes, with expiry, last use and
revocation that take effect on the next request (nothing is cached).

A key looks like `bk_<prefix>_<secret>`; the prefix (shown in the admin) names it, the whole key is
hashed. `Authorization: Token <key>` authenticates as the key's user, with that user's scope.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from core.errors import InvalidInput, NotFound
from core.rows import Rows, table
from departments import access
from departments.models import ApiKey, ConfigStamp

LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per key


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    """What issuing returns: the row and the key itself, which is never stored nor shown again."""

    api_key: ApiKey
    key: str


def _user(username: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"No user {username!r}.")
    return user


@transaction.atomic
def api_key_issue(
    *, username: str, name: str = "default", expires_at: datetime | None = None, at: datetime | None = None
) -> IssuedKey:
    user = _user(username)
    if not user.is_active:
        raise InvalidInput(f"User {username!r} is inactive: its key would not authenticate.")
    now = at or timezone.now()
    prefix = secrets.token_hex(4)
    key = f"bk_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey.objects.create(
        user=user,
        name=name[:100],
        prefix=prefix,
        key_hash=key_hash(key),
        created_at=now,
        expires_at=expires_at or now + timedelta(days=settings.BATON_API_KEY_DAYS),
    )
    return IssuedKey(row, key)


@transaction.atomic
def api_key_revoke(*, username: str, name: str | None = None, prefix: str | None = None, at=None) -> int:
    """Revoke the user's keys (those with `name` or `prefix` if given); effective on the next request."""
    keys = ApiKey.objects.filter(user=_user(username), revoked_at=None)
    if name is not None:
        keys = keys.filter(name=name)
    if prefix is not None:
        keys = keys.filter(prefix=prefix)
    return keys.update(revoked_at=at or timezone.now())


class ApiKeyAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`: the key's hash must match a key that is neither revoked nor
    expired, of an active user."""

    def authenticate_credentials(self, key: str):
        now = timezone.now()
        row = _lookup(key_hash(key))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not row.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
            ApiKey.objects.filter(pk=row.pk).update(last_used_at=now)
        access.remember_stamp(row.user, row._stamp)
        return row.user, row


_KEY = Rows(ApiKey, "k")
_sql: dict[str, str] = {}


def _lookup(hashed: str) -> ApiKey | None:
    """The key with this hash and its user, with the configuration stamp read in the same statement:
    the request's permission and membership checks then come from the process's memory
    (departments/access.py). Every API request runs it, so it is SQL built once per process
    (core.rows), not a query compiled by the ORM each time."""
    sql = _sql.get(connection.vendor)
    if sql is None:
        users = Rows(get_user_model(), "u")
        sql = _sql[connection.vendor] = (
            f"SELECT {_KEY.columns()}, {users.columns()}, "  # noqa: S608 (names from the models)
            f"(SELECT value FROM {table(ConfigStamp)} WHERE id = 1) "
            f"FROM {table(ApiKey)} k JOIN {table(get_user_model())} u ON u.id = k.user_id "
            "WHERE k.key_hash = %s"
        )
        _users[connection.vendor] = users
    with connection.cursor() as cursor:
        cursor.execute(sql, [hashed])
        found = cursor.fetchone()
    if found is None:
        return None
    row = _KEY.build(found[: _KEY.width])
    row.user = _users[connection.vendor].build(found[_KEY.width : -1])
    row._stamp = found[-1]
    return row


_users: dict[str, Rows] = {}
