"""Addressing and sending of webhooks; run by the worker after commit and by beat every minute.

Addressing follows the change feed from the position stored in `FeedCursor("webhooks")`, under that
row's lock (one addresser at a time; another one skips). Each event becomes one `WebhookDelivery`
per active subscription that wants its kind and whose departments the case has been through; the
unique (subscription, event) pair makes a repeated run harmless.

Sending takes, per subscription and case, only the oldest pending delivery (the queue's head), locks
it (SKIP LOCKED: several workers share the work), signs and POSTs it and marks it in a transaction of
its own. A case's next event waits until the one before it is delivered or dead, so a receiver sees
one case's events in order. A worker killed mid-request rolls its transaction back: that one message
is sent again, with the same `webhook-id` (at-least-once; receivers de-duplicate on it).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from processes import feed, notifications
from processes.models import (
    CaseEvent,
    FeedCursor,
    Handoff,
    Notification,
    OutboxEntry,
    WebhookDelivery,
    WebhookSubscription,
)
from processes.webhooks import signing, targets

log = logging.getLogger(__name__)
CURSOR_NAME = "webhooks"


def deliver_due(*, now: datetime | None = None, limit: int | None = None) -> tuple[int, int]:
    """Address what the feed has for the subscriptions, then send what is due: (delivered, failed)."""
    now = now or timezone.now()
    address_due(now=now)
    return send_due(now=now, limit=limit or settings.BATON_WEBHOOK_BATCH)


# -- addressing ------------------------------------------------------------------------------------
def address_due(*, now: datetime, batch: int = 500) -> int:
    made = 0
    while True:
        with transaction.atomic():
            FeedCursor.objects.get_or_create(name=CURSOR_NAME)
            cursor = (
                FeedCursor.objects.select_for_update(skip_locked=True, no_key=True)
                .filter(name=CURSOR_NAME)
                .first()
            )
            if cursor is None:  # another worker is addressing right now
                return made
            since = feed.decode(cursor.position)
            page = feed.read(CaseEvent.objects.all(), since=since, limit=batch)
            rows = _deliveries(page.events, now)
            WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
            if page.position != since:
                cursor.position = feed.encode(page.position)
                cursor.save(update_fields=["position"])
            made += len(rows)
        if not page.more:
            return made


def _deliveries(events: list[CaseEvent], now: datetime) -> list[WebhookDelivery]:
    if not events:
        return []
    subscriptions = list(WebhookSubscription.objects.filter(is_active=True).prefetch_related("departments"))
    if not subscriptions:
        return []
    case_ids = {e.case_id for e in events}
    through: dict[int, set[int]] = defaultdict(set)  # case → departments it has been through
    for case_id, to_id, from_id in Handoff.objects.filter(case_id__in=case_ids).values_list(
        "case_id", "to_department_id", "from_department_id"
    ):
        through[case_id].update(d for d in (to_id, from_id) if d is not None)
    rows = []
    for sub in subscriptions:
        kinds = set(sub.event_kinds or ())
        departments = {d.pk for d in sub.departments.all()}
        for e in events:
            if kinds and e.kind not in kinds:
                continue
            if not sub.all_departments and not (departments & through[e.case_id]):
                continue
            rows.append(
                WebhookDelivery(
                    subscription=sub, event=e, case_id=e.case_id, created_at=now, next_attempt_at=now
                )
            )
    return rows


# -- the message -------------------------------------------------------------------------------------
def render(delivery: WebhookDelivery) -> str:
    """`{"type", "timestamp", "data": {"event", "case"}}`: the event and its case's current public
    state, customer data masked as for an ordinary API reader."""
    from processes.api import selectors
    from processes.api.feed import FeedEventSerializer
    from processes.api.serializers import CaseSerializer

    event = CaseEvent.objects.select_related("case", "actor", "department").get(pk=delivery.event_id)
    case = selectors.case_as_published(case_id=delivery.case_id)
    context = selectors.page_context(user=AnonymousUser(), handoffs=selectors.open_handoffs_of([case]))
    body = {
        "type": f"case.{event.kind}",
        "timestamp": event.created_at.isoformat(),
        "data": {
            "event": FeedEventSerializer(event).data,
            "case": CaseSerializer(case, context=context).data,
        },
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


# -- sending -----------------------------------------------------------------------------------------
def _due(now: datetime):
    earlier = WebhookDelivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        case_id=OuterRef("case_id"),
        event_id__lt=OuterRef("event_id"),
        status=WebhookDelivery.Status.PENDING,
    )
    return (
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, subscription__is_active=True
        )
        .exclude(Exists(earlier))
        .order_by("next_attempt_at", "event_id")
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter: up to base × 2^(n−1), capped at six hours."""
    ceiling = min(settings.BATON_WEBHOOK_RETRY_SECONDS * 2 ** max(attempts - 1, 0), 6 * 3600)
    return timedelta(seconds=ceiling * (0.5 + random.random() / 2))


def send_due(*, now: datetime, limit: int) -> tuple[int, int]:
    """Up to `limit` messages, stopping after `BATON_WEBHOOK_RUN_SECONDS` (slow receivers must not
    run the task into its time limit mid-request; the task re-queues itself while work is left)."""
    delivered = failed = 0
    deadline = time.monotonic() + settings.BATON_WEBHOOK_RUN_SECONDS
    for _ in range(limit):
        if time.monotonic() > deadline:
            break
        with transaction.atomic():
            row = (
                _due(now)
                .select_for_update(skip_locked=True, no_key=True, of=("self",))
                .select_related("subscription")
                .first()
            )
            if row is None:
                break
            if send_one(row, now=now):
                delivered += 1
            else:
                failed += 1
    return delivered, failed


def send_one(row: WebhookDelivery, *, now: datetime) -> bool:
    """Sign and POST one locked delivery and mark it; True when the receiver took it (2xx)."""
    sub = row.subscription
    if not row.body:
        row.body = render(row)
    body = row.body.encode()
    stamp = int(timezone.now().timestamp())
    headers = signing.headers(sub.signing_secrets(now), row.webhook_id, stamp, body)
    row.attempts += 1
    try:
        answer = targets.post(sub.url, body, headers)
    except targets.Refused as exc:
        row.last_status, error = None, f"refused: {exc}"
    except Exception as exc:  # the network: timeouts, resets, TLS
        row.last_status, error = None, f"{exc.__class__.__name__}: {exc}"
    else:
        row.last_status = answer.status
        error = "" if 200 <= answer.status < 300 else f"HTTP {answer.status}"
    if not error:
        row.status, row.delivered_at, row.last_error = WebhookDelivery.Status.DELIVERED, now, ""
        if sub.failing_since:
            WebhookSubscription.objects.filter(pk=sub.pk).update(failing_since=None)
    else:
        row.last_error = error[:2000]
        if row.attempts >= settings.BATON_WEBHOOK_MAX_ATTEMPTS:
            row.status = WebhookDelivery.Status.DEAD
            log.error("webhook delivery %s is dead after %s attempts: %s", row.pk, row.attempts, error)
        else:
            row.next_attempt_at = now + retry_delay(row.attempts)
        _failing(sub, now)
    row.save(
        update_fields=[
            "body",
            "attempts",
            "status",
            "delivered_at",
            "last_status",
            "last_error",
            "next_attempt_at",
        ]
    )
    return not error


def _failing(sub: WebhookSubscription, now: datetime) -> None:
    """Count the subscription's failing time; past the limit it is disabled and its owner told."""
    if sub.failing_since is None:
        sub.failing_since = now
        WebhookSubscription.objects.filter(pk=sub.pk, failing_since=None).update(failing_since=now)
        return
    limit = timedelta(hours=settings.BATON_WEBHOOK_DISABLE_AFTER_HOURS)
    if now - sub.failing_since < limit:
        return
    reason = f"failing since {sub.failing_since.isoformat()}"
    if WebhookSubscription.objects.filter(pk=sub.pk, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=reason
    ):
        notifications.enqueue(
            [
                notifications.entry(
                    Notification.Kind.WEBHOOK_DISABLED,
                    f"webhook_disabled:{sub.pk}:{int(now.timestamp())}",
                    at=now,
                    subscription=sub.pk,
                    owner=sub.owner_id,
                    reason=reason,
                )
            ]
        )


# -- the admin's actions -----------------------------------------------------------------------------
@transaction.atomic
def webhook_replay(*, ids: list[int], at: datetime | None = None) -> int:
    """Dead (or delivered) deliveries go back to pending with a fresh set of attempts, due at `at`."""
    count = (
        WebhookDelivery.objects.filter(pk__in=ids)
        .exclude(status=WebhookDelivery.Status.PENDING)
        .update(
            status=WebhookDelivery.Status.PENDING,
            attempts=0,
            next_attempt_at=at or timezone.now(),
            last_error="",
        )
    )
    if count:
        transaction.on_commit(kick, robust=True)
    return count


@transaction.atomic
def webhook_enable(*, ids: list[int]) -> int:
    return WebhookSubscription.objects.filter(pk__in=ids, is_active=False).update(
        is_active=True, disabled_at=None, disabled_reason="", failing_since=None
    )


def kick() -> None:
    """Ask a worker to deliver webhooks now; with the broker down, beat does it within a minute.
    Not in eager mode (tests call the delivery themselves)."""
    from processes import nudges
    from processes.tasks import deliver_webhooks

    if not deliver_webhooks.app.conf.task_always_eager:
        nudges.publish([deliver_webhooks])


# -- the owner's e-mail when a subscription is disabled ---------------------------------------------
def _address_disabled(entries: list[OutboxEntry]) -> notifications.Addressed:
    owners = notifications.user_recipients(
        {e.facts["owner"] for e in entries}, Notification.Kind.WEBHOOK_DISABLED
    )
    return {e.pk: [(owners[e.facts["owner"]], {})] if e.facts["owner"] in owners else [] for e in entries}


def _prepare_disabled(entries: list[OutboxEntry]) -> dict[int, WebhookSubscription]:
    return WebhookSubscription.objects.in_bulk([e.facts["subscription"] for e in entries])


def _render_disabled(entry: OutboxEntry, recipient, context: dict, subs: dict) -> tuple[str, str, str]:
    from django.utils import translation
    from django.utils.translation import gettext as _

    sub = subs.get(entry.facts["subscription"])
    name = sub.name if sub else str(entry.facts["subscription"])
    with translation.override(recipient.language):
        subject = _("Webhook subscription %(name)s disabled") % {"name": name}
        text = _(
            "Deliveries to %(url)s kept failing (%(reason)s), so the subscription was disabled. "
            "Fix the endpoint, then enable it again in the admin; undelivered events can be replayed."
        ) % {"url": sub.url if sub else "", "reason": entry.facts.get("reason", "")}
    return subject, text, ""


notifications.register(
    Notification.Kind.WEBHOOK_DISABLED,
    notifications.KindHandler(address=_address_disabled, prepare=_prepare_disabled, render=_render_disabled),
)
