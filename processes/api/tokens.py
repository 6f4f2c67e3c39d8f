"""API tokens: one key per user (DRF authtoken); the key acts with its user's department scope.

Revoking is deleting the token, in the admin (authtoken's own admin) or with `--revoke`.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from departments.errors import InvalidInput, NotFound


def _user(username: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"No user {username!r}.")
    return user


@transaction.atomic
def api_token_issue(*, username: str, rotate: bool = False) -> tuple[Token, bool]:
    """The user's key, created if missing; `rotate` replaces an existing key (the old one stops
    working at once). Returns (token, created)."""
    user = _user(username)
    if not user.is_active:
        raise InvalidInput(f"User {username!r} is inactive: its token would not authenticate.")
    if rotate:
        Token.objects.filter(user=user).delete()
    return Token.objects.get_or_create(user=user)


@transaction.atomic
def api_token_revoke(*, username: str) -> bool:
    deleted, _ = Token.objects.filter(user=_user(username)).delete()
    return bool(deleted)
