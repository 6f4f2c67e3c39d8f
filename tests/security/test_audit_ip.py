"""The address in the audit log is the client's, as far as it can be vouched for: X-Forwarded-For is
believed only from a configured trusted proxy, and then only the hops that proxy appended."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from departments.audit import client_ip
from departments.models import AuditEntry

pytestmark = pytest.mark.django_db


def _failed_login(client, **meta):
    client.post("/admin/login/", {"username": "auditor", "password": "wrong"}, **meta)
    return AuditEntry.objects.filter(kind="login_failed").latest("pk").ip_address


def test_a_forged_forwarded_for_from_an_untrusted_client_is_not_the_audit_ip(client, demo_org):
    ip = _failed_login(client, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.0.0.1")

    assert ip == "198.51.100.7"


@override_settings(BATON_TRUSTED_PROXIES=["10.0.0.0/24"])
def test_behind_a_trusted_proxy_the_client_is_the_hop_it_appended(client, demo_org):
    # The client sent "X-Forwarded-For: 6.6.6.6"; the proxy at 10.0.0.5 appended the address it saw
    ip = _failed_login(client, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")

    assert ip == "203.0.113.9"


@override_settings(BATON_TRUSTED_PROXIES=["10.0.0.0/24", "192.0.2.1"])
@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("192.0.2.1", "203.0.113.9, 10.0.0.7", "203.0.113.9"),  # two trusted proxies in a row
        ("192.0.2.1", "", "192.0.2.1"),  # a proxy that sent no header is the only address we know
        ("10.0.0.5", "not-an-ip", "10.0.0.5"),  # a garbled hop is not believed
        ("203.0.113.50", "10.0.0.1", "203.0.113.50"),  # a client claiming to be behind a proxy
        ("2001:db8::1", "192.0.2.44", "2001:db8::1"),
    ],
)
def test_the_rule_right_to_left(peer, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_the_lockout_counts_the_same_address_as_the_audit_log(settings):
    assert settings.AXES_CLIENT_IP_CALLABLE == "departments.audit.client_ip"
