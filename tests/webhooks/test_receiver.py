"""A real HTTP receiver on localhost gets every event of a case life once, in order, signed, and
survives answering 500 for a while: delivery run in-process (the worker's code, without the worker)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from processes.models import WebhookDelivery
from processes.webhooks.delivery import address_due as address_webhooks
from processes.webhooks.delivery import deliver_due

from .conftest import LIFE_KINDS, eventually

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_receiver_gets_a_case_life_once_in_order_signed_through_500s(
    receiver, subscribe, case_life, settings
):
    settings.BATON_WEBHOOK_RETRY_SECONDS = 0.001
    subscribe(receiver.url, receiver.secret)
    outsider = subscribe(receiver.url, receiver.secret, departments=["RISK"])
    # Given a receiver that answers 500 to its 2nd, 3rd and 4th requests, then recovers
    receiver.script = lambda n: 500 if 1 <= n <= 3 else 200

    # When the case lives its life and the worker's delivery runs after each change
    for case in case_life():  # noqa: B007 - the last one is checked below
        deliver_due(now=timezone.now() + timedelta(seconds=1))

    def all_there() -> bool:
        deliver_due(now=timezone.now() + timedelta(seconds=5))
        return len(receiver.delivered()) >= len(LIFE_KINDS)

    eventually(all_there)

    # Then every event arrived, in order, each 2xx once, every signature valid
    got = receiver.delivered()
    assert [r["body"]["type"] for r in got] == [f"case.{k}" for k in LIFE_KINDS]
    assert all(r["verified"] for r in receiver.requests)
    assert len(receiver.requests) == len(LIFE_KINDS) + 3
    ok = Counter(r["headers"]["webhook-id"] for r in receiver.requests if r["status"] == 200)
    assert set(ok.values()) == {1}
    ids = [r["body"]["data"]["event"]["id"] for r in got]
    assert ids == sorted(ids)
    # And the body holds the event, the case reference and its public state, PII masked
    last = got[-1]["body"]["data"]
    assert last["event"]["case"] == case.reference
    assert last["case"]["reference"] == case.reference
    assert last["case"]["status"] == "closed"
    assert last["case"]["customer"] == {"id": "", "name": "张*三", "phone": "138****5678", "masked": True}
    # And the subscription whose departments never saw the case got nothing
    assert not WebhookDelivery.objects.filter(subscription=outsider).exists()
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDelivery.Status.DELIVERED}


def test_a_rotated_secret_signs_with_both_until_the_overlap_ends(receiver, subscribe, case_life):
    from processes.webhooks import signing

    sub = subscribe(receiver.url, signing.new_secret())
    sub.previous_secret, sub.previous_secret_expires_at = receiver.secret, timezone.now() + timedelta(hours=1)
    sub.save()
    next(case_life())

    eventually(lambda: deliver_due() and receiver.requests)

    assert receiver.requests and all(r["verified"] for r in receiver.requests)
    assert len(receiver.requests[0]["headers"]["webhook-signature"].split(" ")) == 2


def test_a_failing_subscription_goes_dead_then_disabled_and_its_owner_is_told(
    receiver, subscribe, case_life, settings
):
    from processes.models import Notification, OutboxEntry
    from processes.outbox import address_due

    settings.BATON_WEBHOOK_MAX_ATTEMPTS = 2
    settings.BATON_WEBHOOK_DISABLE_AFTER_HOURS = 1
    receiver.script = lambda n: 503
    sub = subscribe(receiver.url, receiver.secret)
    next(case_life())
    now = timezone.now()
    eventually(lambda: address_webhooks(now=now) or WebhookDelivery.objects.filter(subscription=sub).exists())

    deliver_due(now=now, limit=1)
    deliver_due(now=now + timedelta(hours=2), limit=1)

    head = WebhookDelivery.objects.filter(subscription=sub).order_by("event_id").first()
    assert head.status == WebhookDelivery.Status.DEAD and head.attempts == 2 and head.last_status == 503
    sub.refresh_from_db()
    assert not sub.is_active and sub.disabled_at is not None
    entry = OutboxEntry.objects.get(kind="webhook_disabled")
    address_due(now=now + timedelta(hours=3))
    assert Notification.objects.get(entry=entry).recipient == sub.owner.email

    # And a replay from the admin sends the dead delivery again once the endpoint is fixed
    from processes.webhooks.delivery import webhook_enable, webhook_replay

    receiver.script = lambda n: 200
    webhook_enable(ids=[sub.pk])
    webhook_replay(ids=[head.pk])
    deliver_due(now=timezone.now() + timedelta(seconds=1))
    head.refresh_from_db()
    assert head.status == WebhookDelivery.Status.DELIVERED


def test_a_run_stops_sending_when_its_time_is_up(receiver, subscribe, case_life, settings):
    sub = subscribe(receiver.url, receiver.secret)
    next(case_life())
    settings.BATON_WEBHOOK_RUN_SECONDS = 0
    eventually(
        lambda: (
            address_webhooks(now=timezone.now())
            or WebhookDelivery.objects.filter(subscription=sub).count() == 2
        )
    )

    assert deliver_due(now=timezone.now()) == (0, 0)
    settings.BATON_WEBHOOK_RUN_SECONDS = 60
    assert deliver_due(now=timezone.now()) == (2, 0)  # created, handoff_requested
