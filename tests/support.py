"""Helpers shared by the test packages: the notification outbox as delivery sees it.

A state change, a sweep or a review writes outbox entries only; who is told (one `Notification` per
recipient) is worked out when delivery addresses the entries, and the words when it sends them.
Tests look at the messages at their own simulated time, after the step that makes them."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from processes.models import Notification
from processes.outbox import address_due, deliver_due


def addressed(now: datetime) -> QuerySet[Notification]:
    """Every message, once the outbox entries due at `now` are addressed to their recipients (not
    rendered yet: subject and bodies are filled when a message is sent)."""
    address_due(now=now)
    return Notification.objects.all()


def delivered(now: datetime) -> QuerySet[Notification]:
    """Every message, once delivery has run at `now`: what was due is sent, and each sent row holds
    the subject and bodies it was sent with."""
    deliver_due(now=now)
    return Notification.objects.all()
