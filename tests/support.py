"""Helpers shared by the test packages: the Shanghai wall clock, the built-in KPIs, and the
notification outbox as delivery sees it.

A state change, a sweep or a review writes outbox entries only; who is told (one `Notification` per
recipient) is worked out when delivery addresses the entries, and the words when it sends them.
Tests look at the messages at their own simulated time, after the step that makes them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from processes.models import Notification
from processes.outbox import address_due, deliver_due

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An aware instant on the wall clock of Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def ensure_builtin_kpis(request) -> None:
    """The built-in KPIs come from a data migration, and a transactional test anywhere in the suite
    flushes them: put back whatever is missing before a database test (for the packages that read
    them, through an autouse fixture of their conftest)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    from evaluations.services import kpi_ensure_defaults

    kpi_ensure_defaults()


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
