"""Recording the audit log: one function, called by the login signals, the admin and the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from departments.models import AuditEntry


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address; behind the proxy (SECURE_PROXY_SSL_HEADER) the first X-Forwarded-For hop."""
    if request is None:
        return None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    candidate = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR", "")
    return candidate or None


def audit_record(
    *,
    kind: str,
    request: HttpRequest | None = None,
    user=None,
    username: str = "",
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    if user is None and request is not None and getattr(request, "user", None) is not None:
        user = request.user if request.user.is_authenticated else None
    return AuditEntry.objects.create(
        kind=kind,
        user=user,
        username=username or (user.get_username() if user is not None else ""),
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
        path=(request.get_full_path() if request is not None else "")[:500],
        object_type=object_type,
        object_id=str(object_id),
        detail=detail or {},
    )
