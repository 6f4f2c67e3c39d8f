"""A user's permissions and department memberships, kept in memory by each process across requests.

Checking a permission costs two queries per request (the user's and the groups' permissions) and
the memberships one more. For API calls, which authenticate on every request, each process keeps
both per user under the configuration stamp that the authenticating query reads (`remember_stamp`):
granting a permission, changing a group or a membership changes the stamp (database triggers), so
the next request in any process loads them again. Without a stamp (the admin's session users) both
are loaded per request, as Django does.
"""

from __future__ import annotations

import threading
from typing import Any

from django.contrib.auth.backends import ModelBackend

_MAX_USERS = 10_000
_lock = threading.Lock()
_permissions: dict[int, tuple[Any, set[str]]] = {}
_memberships: dict[int, tuple[Any, Any]] = {}


def remember_stamp(user, stamp: int | None) -> None:
    """Called by the authentication with the stamp its query read for this request."""
    if stamp is not None:
        user._config_stamp = stamp


def stamp_of(user) -> int | None:
    """The stamp the request's authentication read, if it read one."""
    return getattr(user, "_config_stamp", None)


_stamp = stamp_of


def _store(cache: dict, user_id: int, key: Any, value: Any) -> None:
    with _lock:
        if len(cache) >= _MAX_USERS:
            cache.clear()
        cache[user_id] = (key, value)


def member_ids(user, load):
    """The user's memberships as `load()` returns them: from memory under the request's stamp."""
    stamp = _stamp(user)
    if stamp is None:
        return load()
    found = _memberships.get(user.pk)
    if found is not None and found[0] == stamp:
        return found[1]
    ids = load()
    _store(_memberships, user.pk, stamp, ids)
    return ids


class StampedModelBackend(ModelBackend):
    """Django's ModelBackend, with each process remembering a user's permissions under the stamp.
    The superuser flag is part of the key: it is a column of the user row, read fresh every request."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        stamp = _stamp(user_obj)
        if stamp is None or obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            key = (stamp, user_obj.is_superuser)
            found = _permissions.get(user_obj.pk)
            if found is not None and found[0] == key:
                user_obj._perm_cache = found[1]
            else:
                _store(_permissions, user_obj.pk, key, super().get_all_permissions(user_obj))
        return user_obj._perm_cache
