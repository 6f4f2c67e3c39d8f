"""Delivery of the outbox: entries are addressed to their recipients, then each message is rendered,
sent and marked on its own. Several workers share the work (SKIP LOCKED); failures back off."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from processes import notifications
from processes.models import Notification, OutboxEntry

log = logging.getLogger(__name__)


def retry_delay(attempts: int) -> timedelta:
    """60 s, 2 min, 4 min … capped at six hours."""
    return timedelta(seconds=min(settings.BATON_MAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0), 6 * 3600))


def deliver_due(*, now: datetime | None = None, limit: int | None = None) -> tuple[int, int]:
    """Address the due outbox entries, then send up to `limit` due messages; returns (sent, failed)
    of the staff e-mails. Messages to customers leave in the same run (counted on their own rows).

    Each message is locked, sent and marked in a transaction of its own, so a worker that dies
    mid-way can send again at most the one message it was sending (at-least-once towards the mail
    server for that message, exactly once in the outbox for every other)."""
    now = now or timezone.now()
    address_due(now=now)
    sent, failed = send_due(now=now, limit=limit or settings.BATON_MAIL_BATCH)
    # Messages to customers (SMS or e-mail) leave through the same run.
    from processes.customers import messages as customer_messages

    customer_messages.send_due(now=now, limit=limit or settings.BATON_MAIL_BATCH)
    return sent, failed


def address_due(*, now: datetime, batch: int = 500) -> int:
    """Turn due entries into one message per recipient. Several workers share the entries (SKIP
    LOCKED); a crash rolls the batch back and the next run addresses it again, and the messages'
    unique keys make that harmless."""
    addressed = 0
    while True:
        with transaction.atomic():
            entries = list(
                OutboxEntry.objects.select_for_update(skip_locked=True, no_key=True)
                .filter(status=OutboxEntry.Status.PENDING, created_at__lte=now)
                .order_by("created_at", "pk")[:batch]
            )
            if not entries:
                return addressed
            rows: list[Notification] = []
            by_kind: dict[str, list[OutboxEntry]] = {}
            for e in entries:
                by_kind.setdefault(e.kind, []).append(e)
            for kind, group in by_kind.items():
                kind_handler = notifications.handler(kind)
                if kind_handler.materialise is not None:
                    kind_handler.materialise(group, now)
                    continue
                recipients = kind_handler.address(group)
                for e in group:
                    for recipient, context in recipients.get(e.pk, []):
                        rows.append(
                            Notification(
                                entry=e,
                                kind=e.kind,
                                case_id=e.case_id,
                                user_id=recipient.user_id,
                                recipient=recipient.email,
                                language=recipient.language,
                                context=context,
                                dedup_key=f"{e.dedup_key}:{recipient.user_id or recipient.email.lower()}"[
                                    :200
                                ],
                                created_at=e.created_at,
                                next_attempt_at=e.created_at,
                            )
                        )
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            OutboxEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
                status=OutboxEntry.Status.DONE, addressed_at=now
            )
            addressed += len(entries)
        if len(entries) < batch:
            return addressed


class _Words:
    """What rendering needs, loaded for a batch of entries and kept for the run; one rendering per
    entry, language and context."""

    def __init__(self) -> None:
        self.prepared: dict[int, object] = {}
        self.rendered: dict[tuple, tuple[str, str, str]] = {}

    def load(self, entries: list[OutboxEntry]) -> None:
        missing = [e for e in entries if e.pk not in self.prepared]
        by_kind: dict[str, list[OutboxEntry]] = {}
        for e in missing:
            by_kind.setdefault(e.kind, []).append(e)
        for kind, group in by_kind.items():
            prepared = notifications.handler(kind).prepare(group)
            for e in group:
                self.prepared[e.pk] = prepared

    def render(self, row: Notification) -> tuple[str, str, str]:
        e = row.entry
        key = (e.pk, row.language, json.dumps(row.context, sort_keys=True))
        if key not in self.rendered:
            self.load([e])
            recipient = notifications.Recipient(row.user_id, row.recipient, row.language)
            self.rendered[key] = notifications.handler(e.kind).render(
                e, recipient, row.context, self.prepared[e.pk]
            )
        return self.rendered[key]


def _due(now: datetime):
    return Notification.objects.filter(status=Notification.Status.PENDING, next_attempt_at__lte=now).order_by(
        "next_attempt_at", "pk"
    )


def send_due(*, now: datetime, limit: int) -> tuple[int, int]:
    words = _Words()
    # Load the words of what is due now in a few queries, not per message.
    words.load([row.entry for row in _due(now).select_related("entry")[:limit] if row.entry is not None])
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:
        return 0, _all_failed(now, limit, exc)
    sent = failed = 0
    try:
        for _ in range(limit):
            with transaction.atomic():
                row = (
                    _due(now)
                    .select_for_update(skip_locked=True, no_key=True, of=("self",))
                    .select_related("entry")
                    .first()
                )
                if row is None:
                    break
                if row.entry is not None:
                    row.subject, row.body_text, row.body_html = words.render(row)
                    row.subject = row.subject[:300]
                message = EmailMultiAlternatives(
                    subject=row.subject,
                    body=row.body_text,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[row.recipient],
                    connection=connection,
                    headers={"X-Baton-Notification": row.dedup_key},
                )
                if row.body_html:
                    message.attach_alternative(row.body_html, "text/html")
                try:
                    message.send()
                except Exception as exc:
                    _failed(row, exc, now)
                    failed += 1
                else:
                    row.status, row.sent_at, row.last_error = Notification.Status.SENT, now, ""
                    row.attempts += 1
                    sent += 1
                row.save(
                    update_fields=[
                        "status",
                        "attempts",
                        "next_attempt_at",
                        "last_error",
                        "sent_at",
                        "subject",
                        "body_text",
                        "body_html",
                    ]
                )
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken SMTP session is best effort
            log.debug("SMTP close failed", exc_info=True)
    return sent, failed


@transaction.atomic
def _all_failed(now: datetime, limit: int, exc: Exception) -> int:
    """The mail server cannot be reached: every due message of this run counts one failed attempt."""
    rows = list(_due(now).select_for_update(skip_locked=True, no_key=True)[:limit])
    for row in rows:
        _failed(row, exc, now)
    Notification.objects.bulk_update(rows, ["status", "attempts", "next_attempt_at", "last_error"])
    return len(rows)


def _failed(row: Notification, exc: Exception, now: datetime) -> None:
    row.attempts += 1
    row.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
    if row.attempts >= settings.BATON_MAIL_MAX_ATTEMPTS:
        row.status = Notification.Status.DEAD
        log.error("notification %s is dead after %s attempts: %s", row.pk, row.attempts, row.last_error)
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)


@transaction.atomic
def notification_retry(*, ids: list[int], actor=None, at: datetime | None = None) -> int:
    """The admin's "retry": dead rows go back to pending with a fresh set of attempts, due at `at`."""
    count = Notification.objects.filter(pk__in=ids, status=Notification.Status.DEAD).update(
        status=Notification.Status.PENDING, attempts=0, next_attempt_at=at or timezone.now(), last_error=""
    )
    if count:
        from processes.notifications import kick_delivery

        transaction.on_commit(kick_delivery, robust=True)
    return count
