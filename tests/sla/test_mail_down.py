"""Mail server down: delivery backs off (60 s, 120 s, 240 s…), ends dead after
BATON_MAIL_MAX_ATTEMPTS with nothing lost, and `notification_retry` sends it once."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings
from django.utils import timezone

from processes.models import Notification
from processes.outbox import deliver_due, notification_retry
from tests.support import addressed

from .conftest import T0, sent_keys

pytestmark = pytest.mark.django_db
MODULE = __name__


class FailingBackend(BaseEmailBackend):
    """Connects, then every message bounces off a server that hangs up."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("mail server down")


class UnreachableBackend(BaseEmailBackend):
    """The connection itself is refused."""

    def open(self):
        raise ConnectionRefusedError(111, "Connection refused")

    def send_messages(self, email_messages):  # pragma: no cover - never reached
        raise AssertionError("open() failed, nothing may be sent")


@pytest.mark.parametrize(
    ("backend", "error"),
    [
        ("FailingBackend", "SMTPServerDisconnected: mail server down"),
        ("UnreachableBackend", "ConnectionRefusedError: [Errno 111] Connection refused"),
    ],
)
def test_delivery_backs_off_ends_dead_and_a_retry_sends_it_once(settings, open_case, backend, error):
    settings.BATON_MAIL_MAX_ATTEMPTS = 4
    settings.BATON_MAIL_RETRY_SECONDS = 60
    # Given two e-mails in the outbox (a handoff arrived at the call center: agent and lead)
    open_case(at=T0)
    rows = addressed(T0)
    assert rows.count() == 2
    now = timezone.now()

    with override_settings(EMAIL_BACKEND=f"{MODULE}.{backend}"):
        # When delivery fails again and again, each time once the row is due
        for attempt, delay in enumerate([60, 120, 240], start=1):
            assert deliver_due(now=now) == (0, 2)
            assert set(rows.values_list("status", "attempts", "next_attempt_at", "last_error")) == {
                (Notification.Status.PENDING, attempt, now + timedelta(seconds=delay), error)
            }
            # Not due yet: a run in between leaves the rows alone
            assert deliver_due(now=now + timedelta(seconds=delay - 1)) == (0, 0)
            assert rows.filter(attempts=attempt).count() == 2
            now += timedelta(seconds=delay)
        assert deliver_due(now=now) == (0, 2)

        # Then after the fourth attempt the rows are dead, kept with their error, and left alone
        assert set(rows.values_list("status", "attempts", "last_error")) == {
            (Notification.Status.DEAD, 4, error)
        }
        assert deliver_due(now=now + timedelta(days=30)) == (0, 0)
    assert mail.outbox == []

    # When the mail server is back and the quality office retries them
    ids = list(rows.values_list("pk", flat=True))
    assert notification_retry(ids=ids) == 2
    assert set(rows.values_list("status", "attempts", "last_error")) == {(Notification.Status.PENDING, 0, "")}
    sent, failed = deliver_due()

    # Then each goes out once; a second retry or delivery does nothing more
    assert (sent, failed) == (2, 0)
    assert sorted(sent_keys()) == sorted(rows.values_list("dedup_key", flat=True))
    assert set(rows.values_list("status", "attempts")) == {(Notification.Status.SENT, 1)}
    assert notification_retry(ids=ids) == 0
    assert deliver_due() == (0, 0)
    assert len(mail.outbox) == 2


def test_the_retry_delay_doubles_and_is_capped(settings):
    from processes.outbox import retry_delay

    settings.BATON_MAIL_RETRY_SECONDS = 60
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(20) == timedelta(hours=6)


class FlakyBackend(BaseEmailBackend):
    """Refuses one recipient, accepts everybody else (a full mailbox, say)."""

    def send_messages(self, email_messages):
        for message in email_messages:
            if "call_center_agent@" in message.to[0]:
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (552, b"mailbox full")})
        mail.outbox.extend(email_messages)
        return len(email_messages)


def test_one_failing_recipient_does_not_hold_back_the_others(open_case):
    open_case(at=T0)

    with override_settings(EMAIL_BACKEND=f"{MODULE}.FlakyBackend"):
        assert deliver_due() == (1, 1)

    assert [m.to for m in mail.outbox] == [["call_center_lead@bank.example"]]
    statuses = dict(Notification.objects.values_list("recipient", "status"))
    assert statuses == {
        "call_center_agent@bank.example": Notification.Status.PENDING,
        "call_center_lead@bank.example": Notification.Status.SENT,
    }
