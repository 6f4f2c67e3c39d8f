"""The sweep and the services at the same time on PostgreSQL: no deadlock, nothing lost.

A service locks its case row first (FOR NO KEY UPDATE) and then updates the handoff; the sweep locks
handoffs and inserts events and outbox rows that reference the case (a foreign-key check takes a
KEY SHARE lock on the case row). Without care the two wait on each other."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from processes import policy, services
from processes.models import CaseEvent, Handoff
from processes.sla import sla_sweep

from .conftest import T0, minutes, open_handoff

LOCK_WAIT_SECONDS = 5


def _someone_waits_on_a_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sweep_while_a_service_holds_the_case_does_not_deadlock(monkeypatch, open_case, user):
    assert connection.vendor == "postgresql"
    monkeypatch.setattr("processes.notifications.kick_delivery", lambda *args, **kwargs: None)
    # Given an overdue intake handoff
    case = open_case(at=T0)
    handoff = open_handoff(case)
    agent = user("call_center_agent")
    case_locked, go_on = threading.Event(), threading.Event()
    errors: dict[str, BaseException] = {}
    swept: list = []
    original = policy.require_acts_for

    def pause_after_locking_the_case(*args, **kwargs):
        case_locked.set()
        go_on.wait(timeout=30)
        return original(*args, **kwargs)

    monkeypatch.setattr(policy, "require_acts_for", pause_after_locking_the_case)

    def accept() -> None:
        try:
            services.handoff_accept(handoff=handoff, actor=agent, at=T0 + minutes(17))
        except BaseException as exc:
            errors["accept"] = exc
        finally:
            connections.close_all()

    def sweep() -> None:
        try:
            swept.append(sla_sweep(now=T0 + minutes(16)))
        except BaseException as exc:
            errors["sweep"] = exc
        finally:
            connections.close_all()

    # When an agent's accept holds the case lock while the sweep runs over its handoff
    accepting = threading.Thread(target=accept)
    accepting.start()
    assert case_locked.wait(timeout=30)
    sweeping = threading.Thread(target=sweep)
    sweeping.start()
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while sweeping.is_alive() and time.monotonic() < deadline and not _someone_waits_on_a_lock():
        time.sleep(0.05)
    sweep_finished_while_the_case_was_locked = not sweeping.is_alive()
    go_on.set()  # the accept goes on to update the handoff
    accepting.join(timeout=60)
    sweeping.join(timeout=60)

    # Then both finished without an error (no deadlock victim)
    assert not accepting.is_alive() and not sweeping.is_alive()
    assert errors == {}
    # And the sweep did not wait for the agent: it skipped the handoff whose case was busy
    assert sweep_finished_while_the_case_was_locked
    assert swept[0].counts["response_breached"] == 0
    # And the handoff is accepted; its late acceptance is a response breach all the same
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.ACCEPTED
    assert handoff.response_breached_at == handoff.response_due_at
    assert sla_sweep(now=T0 + minutes(18)).total == 0
    assert not CaseEvent.objects.filter(handoff=handoff, kind=CaseEvent.Kind.BREACHED).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sweep_claims_handoffs_and_their_cases_with_skip_locked(open_case):
    from django.test.utils import CaptureQueriesContext

    open_case(at=T0)
    with CaptureQueriesContext(connection) as queries:
        sla_sweep(now=T0 + minutes(16))
    claims = [
        q["sql"]
        for q in queries.captured_queries
        if "UPDATE OF" in q["sql"] and 'FROM "processes_handoff"' in q["sql"]
    ]
    assert len(claims) == 5  # one per step
    for sql in claims:
        # NO KEY UPDATE: a service's foreign-key checks on the case (KEY SHARE) do not wait on it
        assert 'FOR NO KEY UPDATE OF "processes_handoff", "processes_case" SKIP LOCKED' in sql, sql
