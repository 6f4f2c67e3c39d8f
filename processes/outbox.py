"""Delivery of the outbox: several workers share the due rows (SKIP LOCKED), failures back off."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from processes.models import Notification

log = logging.getLogger(__name__)


def retry_delay(attempts: int) -> timedelta:
    """60 s, 2 min, 4 min … capped at six hours."""
    return timedelta(seconds=min(settings.BATON_MAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0), 6 * 3600))


@transaction.atomic
def deliver_due(*, now: datetime | None = None, limit: int | None = None) -> tuple[int, int]:
    """Send up to `limit` due rows; returns (sent, failed).

    The rows stay locked while they are sent, so no other worker can pick them; a crash before the
    commit means the e-mail may go out again on the next run (at-least-once towards the mail server,
    exactly once in the outbox).
    """
    now = now or timezone.now()
    rows = list(
        Notification.objects.select_for_update(skip_locked=True)
        .filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")[: limit or settings.BATON_MAIL_BATCH]
    )
    if not rows:
        return 0, 0
    sent = failed = 0
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:
        for row in rows:
            _failed(row, exc, now)
        Notification.objects.bulk_update(rows, ["status", "attempts", "next_attempt_at", "last_error"])
        return 0, len(rows)
    try:
        for row in rows:
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
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken SMTP session is best effort
            log.debug("SMTP close failed", exc_info=True)
    Notification.objects.bulk_update(rows, ["status", "attempts", "next_attempt_at", "last_error", "sent_at"])
    return sent, failed


def _failed(row: Notification, exc: Exception, now: datetime) -> None:
    row.attempts += 1
    row.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
    if row.attempts >= settings.BATON_MAIL_MAX_ATTEMPTS:
        row.status = Notification.Status.DEAD
        log.error("notification %s is dead after %s attempts: %s", row.pk, row.attempts, row.last_error)
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)


@transaction.atomic
def notification_retry(*, ids: list[int], actor=None) -> int:
    """The admin's "retry": dead rows go back to pending with a fresh set of attempts."""
    count = Notification.objects.filter(pk__in=ids, status=Notification.Status.DEAD).update(
        status=Notification.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )
    if count:
        from processes.notifications import kick_delivery

        transaction.on_commit(kick_delivery, robust=True)
    return count
