"""Where a webhook may go, and the one HTTP request that goes there.

A target must be http(s) and every address its host resolves to must be public: loopback, private,
link-local (169.254.169.254, the cloud metadata service), shared, reserved and multicast addresses
are refused (server-side request forgery), unless the host is listed in
`BATON_WEBHOOK_ALLOWED_HOSTS`. The request connects to the address that was checked (no second DNS
lookup that could answer differently), never follows a redirect (a 3xx is a failed attempt), has a
timeout on connect and on every read, and reads at most `BATON_WEBHOOK_MAX_RESPONSE_BYTES`.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

USER_AGENT = "Baton-Webhooks/1"


class Refused(Exception):
    """The target is not one Baton may send to."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _allowed_host(host: str) -> bool:
    return host.lower().strip("[]") in {h.lower().strip("[]") for h in settings.BATON_WEBHOOK_ALLOWED_HOSTS}


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check(url: str) -> Target:
    """The target of `url` with the addresses it may be reached at; `Refused` if none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("only http and https URLs")
    if parts.username or parts.password:
        raise Refused("no credentials in the URL")
    host = parts.hostname or ""
    if not host:
        raise Refused("no host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve: {exc}") from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not _allowed_host(host):
        blocked = [a for a in addresses if not _public(a)]
        if blocked:
            raise Refused(f"{host} resolves to a non-public address ({blocked[0]})")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, addresses)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST once; raises `Refused` for a forbidden target and OSError/HTTPException on failure."""
    target = check(url)
    timeout = settings.BATON_WEBHOOK_TIMEOUT_SECONDS
    cls = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    conn = cls(target, target.addresses[0], timeout)
    try:
        conn.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = conn.getresponse()
        data = response.read(settings.BATON_WEBHOOK_MAX_RESPONSE_BYTES)
        return Answer(response.status, data)
    finally:
        conn.close()
