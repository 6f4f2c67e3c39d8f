"""Fixtures of the SLA, escalation and notification tests: the demo organisation and processes, and
helpers that build state through the services on a fixed clock.

The complaint intake is at the call center (a 24×7 calendar), so business time is wall time there:
a normal-priority intake handoff must be accepted within 15 minutes (due soon from 12) and completed
within 2 hours (due soon from 96 minutes).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail

from processes import services
from processes.models import Case, CaseEvent, Handoff
from tests.support import SHANGHAI, addressed

# Monday 1 June 2026, 09:30 in Shanghai: a working morning, long before the machine's clock.
T0 = datetime(2026, 6, 1, 9, 30, tzinfo=SHANGHAI)
RESPONSE = timedelta(minutes=15)
RESOLUTION = timedelta(hours=2)
CUSTOMER_NAME, CUSTOMER_NAME_MASKED = "王小明", "王*明"
CUSTOMER_PHONE, CUSTOMER_PHONE_MASKED = "13912345678", "139****5678"


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


@pytest.fixture
def open_case(org, user):
    """`open_case(at=...)`: a complaint taken by the call center agent; its intake handoff is pending."""

    def make(*, at: datetime = T0, process: str = "COMPLAINT", **fields) -> Case:
        fields.setdefault("title", "信用卡年费争议")
        fields.setdefault("channel", Case.Channel.PHONE)
        fields.setdefault("customer_name", CUSTOMER_NAME)
        fields.setdefault("customer_phone", CUSTOMER_PHONE)
        case, created = services.case_open(
            process=org.processes[process], actor=user("call_center_agent"), at=at, **fields
        )
        assert created
        return case

    return make


def open_handoff(case: Case) -> Handoff:
    return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)


def events(handoff: Handoff, kind: str) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(handoff=handoff, kind=kind).order_by("pk"))


def recipients(kind: str, case: Case | None = None, *, now: datetime) -> list[str]:
    """Usernames that have a message of this kind (for this case) once the outbox is addressed at
    `now`, sorted."""
    rows = addressed(now).filter(kind=kind)
    if case is not None:
        rows = rows.filter(case=case)
    return sorted(rows.values_list("user__username", flat=True))


def sent_keys() -> list[str]:
    """The de-duplication key of every e-mail the locmem backend received, in order."""
    return [m.extra_headers["X-Baton-Notification"] for m in mail.outbox]
