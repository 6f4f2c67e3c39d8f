"""Recording the audit log: one function, called by the login signals, the admin and the API."""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from departments.models import AuditEntry


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _trusted_networks(tuple(settings.BATON_TRUSTED_PROXIES)))


@functools.cache
def _trusted_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: the TCP peer, unless the peer is a configured trusted proxy.

    Only a proxy listed in BATON_TRUSTED_PROXIES (addresses or networks) may say who the client was.
    X-Forwarded-For is read right to left, each hop appended by the proxy that received it: the
    first address that is not a trusted proxy is the client. Whatever a client writes into the header
    itself stays to the left of that and is never believed.
    """
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR", "") or ""
    if not _trusted(peer):
        return peer or None
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a garbled hop: the last address we can vouch for
    return peer or None


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
