"""The sweep is set-based: its number of queries does not grow with the number of handoffs it marks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes import services
from processes.models import CaseEvent, Notification, OutboxEntry
from processes.sla import sla_sweep
from tests.support import addressed

from .conftest import T0, minutes

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"


def _sweep_counting_queries(now) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        result = sla_sweep(now=now)
    return result.counts["response_breached"], [q["sql"] for q in queries.captured_queries]


# Django splits a bulk INSERT on SQLite every 999 parameters: 20 handoffs' events and outbox
# entries (breach and escalation) still fit one statement each there. PostgreSQL has no such
# split, so it takes 40.
MANY = 40 if POSTGRES else 20


def test_the_sweep_runs_a_fixed_number_of_queries_however_many_handoffs_it_marks(open_case, user):
    agent = user("call_center_agent")
    # Given 3 overdue intake handoffs
    few = [open_case(at=T0) for _ in range(3)]
    marked_few, queries_few = _sweep_counting_queries(T0 + minutes(16))
    for case in few:  # out of the way of the second measurement
        services.case_cancel(case=case, actor=agent, reason="duplicate", at=T0 + minutes(17))

    # And, a day later, many more
    t1 = T0 + timedelta(days=1)
    for _ in range(MANY):
        open_case(at=t1)
    marked_many, queries_many = _sweep_counting_queries(t1 + minutes(16))

    # Then both sweeps ran the same statements, however many rows each touched
    assert (marked_few, marked_many) == (3, MANY)
    assert len(queries_many) == len(queries_few), "\n".join(queries_many)
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.BREACHED).count() == 3 + MANY
    assert OutboxEntry.objects.filter(kind=Notification.Kind.BREACHED).count() == 3 + MANY
    assert OutboxEntry.objects.filter(kind=Notification.Kind.ESCALATED).count() == 3 + MANY
    # Delivery tells each of them to the call center's agent and lead
    notes = addressed(t1 + minutes(16))
    assert notes.filter(kind=Notification.Kind.BREACHED).count() == 2 * (3 + MANY)
    print(f"sla_sweep(): {len(queries_few)} queries for 3 handoffs, {len(queries_many)} for {MANY}")
