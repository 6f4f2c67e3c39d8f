"""Running the sweep twice, or two sweeps at once, marks and tells everything exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections

from departments.models import Department
from processes import services
from processes.models import CaseEvent, Handoff, Notification, OutboxEntry
from processes.outbox import deliver_due
from processes.sla import sla_sweep
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory
from tests.support import addressed

from .conftest import T0, minutes, open_handoff, sent_keys

Kind = Notification.Kind
EventKind = CaseEvent.Kind


def _state() -> dict:
    """Everything a sweep may write, read fresh."""
    return {
        "handoffs": list(Handoff.objects.order_by("pk").values()),
        "events": list(CaseEvent.objects.order_by("pk").values_list("pk", "handoff_id", "kind", "payload")),
        "outbox": list(
            OutboxEntry.objects.order_by("pk").values_list("pk", "kind", "dedup_key", "facts", "status")
        ),
        "notifications": list(Notification.objects.order_by("pk").values_list("pk", "dedup_key", "status")),
    }


@pytest.fixture
def mixed_cases(open_case, user, org):
    """At NOW: one handoff breached on both clocks, one accepted and past its resolution due, one
    due soon on each clock; the call center has a parent department for level 2."""
    parent = DepartmentFactory(code="HEAD_OFFICE", calendar=org.departments["CALL_CENTER"].calendar)
    MembershipFactory(user=UserFactory(username="head_office_lead"), department=parent, role="lead")
    Department.objects.filter(code="CALL_CENTER").update(parent=parent)
    agent = user("call_center_agent")
    now = T0 + timedelta(hours=2, minutes=1)
    both = open_case(at=T0)
    accepted_late = open_case(at=T0)
    services.handoff_accept(handoff=open_handoff(accepted_late), actor=agent, at=T0 + minutes(5))
    response_soon = open_case(at=now - minutes(13))
    resolution_soon = open_case(at=now - minutes(100))
    services.handoff_accept(handoff=open_handoff(resolution_soon), actor=agent, at=now - minutes(99))
    return now, [both, accepted_late, response_soon, resolution_soon]


@pytest.mark.django_db
def test_the_sweep_twice_changes_nothing_the_second_time(settings, mixed_cases):
    settings.BATON_LEVEL2_AFTER_MINUTES = 120
    now, (both, accepted_late, response_soon, resolution_soon) = mixed_cases

    first = sla_sweep(now=now)
    after_first = _state()
    second = sla_sweep(now=now)

    assert first.counts == {
        "response_breached": 1,
        "resolution_breached": 2,
        "escalated_level_2": 0,
        "response_due_soon": 1,
        "resolution_due_soon": 1,
    }
    assert second.total == 0 and not second.more
    assert after_first["outbox"]
    assert _state() == after_first

    # Level 2 two hours later, twice: once
    later = now + timedelta(hours=2)
    assert sla_sweep(now=later).counts["escalated_level_2"] == 2
    after_level2 = _state()
    assert sla_sweep(now=later).total == 0
    assert _state() == after_level2

    # Each escalation and each breach is on the timeline exactly once
    kinds = Counter(
        (e.handoff_id, e.kind, e.payload.get("clock"), e.payload.get("level"))
        for e in CaseEvent.objects.filter(
            kind__in=[EventKind.BREACHED, EventKind.ESCALATED, EventKind.DUE_SOON]
        )
    )
    assert set(kinds.values()) == {1}
    h_both, h_late = open_handoff(both), open_handoff(accepted_late)
    assert kinds[(h_both.pk, EventKind.BREACHED, "response", None)] == 1
    assert kinds[(h_both.pk, EventKind.BREACHED, "resolution", None)] == 1
    assert kinds[(h_late.pk, EventKind.BREACHED, "resolution", None)] == 1
    assert kinds[(h_both.pk, EventKind.ESCALATED, None, 2)] == 1
    assert kinds[(open_handoff(response_soon).pk, EventKind.DUE_SOON, "response", None)] == 1
    assert kinds[(open_handoff(resolution_soon).pk, EventKind.DUE_SOON, "resolution", None)] == 1

    # And each e-mail goes out exactly once, however often delivery runs
    pending = set(addressed(later).values_list("dedup_key", flat=True))
    sent, failed = deliver_due(now=later)
    assert (sent, failed) == (len(pending), 0)
    assert deliver_due(now=later) == (0, 0)
    assert sorted(sent_keys()) == sorted(pending)
    assert sla_sweep(now=later).total == 0
    assert deliver_due(now=later) == (0, 0)
    assert len(mail.outbox) == len(pending)


def _in_threads(target, count: int = 2) -> list:
    """Run `target()` in `count` threads released at the same instant; their results, in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = target()
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_in_parallel_threads_mark_and_tell_each_handoff_once(monkeypatch, open_case):
    # Given 30 overdue intake handoffs (deliveries are left to the explicit runs below)
    monkeypatch.setattr("processes.notifications.kick_delivery", lambda *args, **kwargs: None)
    cases = [open_case(at=T0) for _ in range(30)]
    handoff_ids = set(Handoff.objects.filter(case__in=cases).values_list("pk", flat=True))
    now = T0 + minutes(16)

    # When two sweeps run at the same moment, in small batches so that they interleave
    def sweep_until_done() -> int:
        marked = 0
        while True:
            result = sla_sweep(now=now, batch_size=4)
            marked += result.counts["response_breached"]
            if not result.more:
                return marked

    marked = _in_threads(sweep_until_done)

    # Then the work was shared, not doubled: each handoff breached and escalated once
    assert sum(marked) == 30
    breached = Counter(CaseEvent.objects.filter(kind=EventKind.BREACHED).values_list("handoff_id", flat=True))
    escalated = Counter(
        CaseEvent.objects.filter(kind=EventKind.ESCALATED).values_list("handoff_id", flat=True)
    )
    assert breached == dict.fromkeys(handoff_ids, 1)
    assert escalated == dict.fromkeys(handoff_ids, 1)
    assert set(Handoff.objects.filter(pk__in=handoff_ids).values_list("escalation_level", flat=True)) == {1}
    assert OutboxEntry.objects.filter(kind=Kind.BREACHED).count() == 30
    assert OutboxEntry.objects.filter(kind=Kind.ESCALATED).count() == 30
    assert addressed(now).filter(kind=Kind.BREACHED).count() == 2 * 30
    assert Notification.objects.filter(kind=Kind.ESCALATED).count() == 30

    # When two deliveries run at the same moment
    mail.outbox = []

    def deliver_until_done() -> int:
        total = 0
        while True:
            sent, failed = deliver_due(now=now, limit=7)
            assert failed == 0
            total += sent
            if not sent:
                return total

    delivered = _in_threads(deliver_until_done)

    # Then every e-mail went out exactly once
    keys = set(Notification.objects.values_list("dedup_key", flat=True))
    assert sum(delivered) == len(keys) == len(mail.outbox)
    assert Counter(sent_keys()) == dict.fromkeys(keys, 1)
    assert set(Notification.objects.values_list("status", flat=True)) == {Notification.Status.SENT}
    print(f"sweeps marked {marked}, deliveries sent {delivered}")
