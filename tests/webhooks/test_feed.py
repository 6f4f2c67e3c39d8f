"""The change feed: every event once, in order, behind an opaque cursor; the SLA sweep's events
(breach, escalation, due soon) reach it, the case feed and webhooks like any other change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from processes import feed
from processes.models import CaseEvent, WebhookDelivery
from processes.sla import sla_sweep
from processes.webhooks.delivery import address_due

from .conftest import T0, eventually

pytestmark = pytest.mark.django_db(transaction=True)


def _nonempty(page: dict) -> dict | None:
    return page if page["results"] else None


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_cursors_are_opaque_and_checked():
    assert feed.decode(feed.encode((12, 34))) == (12, 34)
    for bad in ("garbage", "Zm9v", feed.encode((1, 2)) + "x!"):
        with pytest.raises(feed.BadCursor):
            feed.decode(bad)


def test_the_sweeps_events_reach_the_feeds_and_the_webhooks(case_life, user, subscribe):
    sub = subscribe("https://93.184.215.14/hooks", "whsec_" + "A" * 44)
    case = next(case_life())
    client = _client(user("call_center_agent"))
    first = eventually(lambda: _nonempty(client.get("/api/v1/events/").json()))
    changes = eventually(lambda: _nonempty(client.get("/api/v1/cases/changes/").json()))
    assert [c["reference"] for c in changes["results"]] == [case.reference]

    # When the sweep finds the intake handoff overdue (it writes events, not the case row)
    sla_sweep(now=T0 + timedelta(hours=1))

    swept = eventually(lambda: _nonempty(client.get(f"/api/v1/events/?cursor={first['cursor']}").json()))
    kinds = [e["kind"] for e in swept["results"]]
    assert "breached" in kinds and "escalated" in kinds
    assert all(e["case"] == case.reference for e in swept["results"])
    again = eventually(
        lambda: _nonempty(client.get(f"/api/v1/cases/changes/?cursor={changes['cursor']}").json())
    )
    assert [c["reference"] for c in again["results"]] == [case.reference]
    # And nothing repeats after the new cursors
    assert client.get(f"/api/v1/events/?cursor={swept['cursor']}").json()["results"] == []
    assert client.get(f"/api/v1/cases/changes/?cursor={again['cursor']}").json()["results"] == []

    # And the subscription gets them as deliveries
    def addressed_kinds() -> set[str]:
        address_due(now=T0 + timedelta(hours=1))
        return set(WebhookDelivery.objects.filter(subscription=sub).values_list("event__kind", flat=True))

    assert {"breached", "escalated"} <= eventually(
        lambda: {"breached", "escalated"} <= addressed_kinds() and addressed_kinds()
    )


def test_a_caller_sees_only_its_scope_and_a_bad_cursor_is_400(case_life, user):
    next(case_life())
    outsider = _client(user("risk_agent")).get("/api/v1/events/").json()
    assert outsider["results"] == []
    assert CaseEvent.objects.exists()
    answer = _client(user("call_center_agent")).get("/api/v1/events/?cursor=nonsense")
    assert answer.status_code == 400 and "cursor" in answer.json()["fields"]
    answer = _client(user("call_center_agent")).get("/api/v1/events/?page_size=0")
    assert answer.status_code == 400
