"""The beat tasks: bounded batches that re-queue themselves until empty, and auto-close."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from processes import outbox, services, sla, tasks
from processes.models import Case, CaseEvent, Handoff
from tests.support import addressed

from .conftest import T0, minutes, open_handoff, sent_keys

pytestmark = pytest.mark.django_db


@override_settings(BATON_SWEEP_BATCH=2)
def test_the_sweep_task_requeues_itself_while_a_step_fills_its_batch(open_case):
    # Given five intake handoffs an hour overdue on the machine's clock
    cases = [open_case(at=timezone.now() - timedelta(hours=1)) for _ in range(5)]

    # When beat starts the sweep once (eagerly: each re-queue runs at once)
    with mock.patch.object(sla, "sla_sweep", wraps=sla.sla_sweep) as sweep:
        counts = tasks.sla_sweep.delay().get()

    # Then it ran in batches of two until a batch came back short: 2 + 2 + 1
    assert [c.kwargs for c in sweep.call_args_list] == [{}, {}, {}]
    assert counts["response_breached"] == 2  # the first run's result; the rest ran re-queued
    handoffs = Handoff.objects.filter(case__in=cases)
    assert handoffs.filter(response_breached_at__isnull=False, escalation_level=1).count() == 5
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.BREACHED).count() == 5


@override_settings(BATON_SWEEP_BATCH=5)
def test_a_batch_that_is_not_full_does_not_requeue(open_case):
    open_case(at=timezone.now() - timedelta(hours=1))

    with mock.patch.object(sla, "sla_sweep", wraps=sla.sla_sweep) as sweep:
        tasks.sla_sweep.delay()

    assert sweep.call_count == 1


@override_settings(BATON_MAIL_BATCH=2)
def test_the_delivery_task_requeues_itself_while_it_fills_its_batch(open_case):
    for _ in range(3):
        open_case(at=T0)  # two e-mails each: the call center's agent and lead
    keys = set(addressed(T0).values_list("dedup_key", flat=True))

    with mock.patch.object(outbox, "deliver_due", wraps=outbox.deliver_due) as deliver:
        tasks.deliver_notifications.delay()

    assert deliver.call_count == 4  # 2 + 2 + 2 + an empty run
    assert sorted(sent_keys()) == sorted(keys)
    assert len(mail.outbox) == 6


@pytest.fixture
def resolved_case(open_case, user):
    """`resolved_case(at)`: a complaint resolved by the card center at `at`; the call-back is pending."""
    agent, card = user("call_center_agent"), user("card_center_agent")

    def make(at) -> Case:
        case = open_case(at=at - minutes(30))
        services.handoff_accept(handoff=open_handoff(case), actor=agent, at=at - minutes(25))
        services.case_forward(case=case, to_stage="INVESTIGATE_CARD", actor=agent, at=at - minutes(20))
        services.handoff_accept(handoff=open_handoff(case), actor=card, at=at - minutes(10))
        services.case_resolve(
            case=case, actor=card, resolution="Fee refunded.", recovery_measure=Case.Recovery.APOLOGY, at=at
        )
        case.refresh_from_db()
        assert (case.status, case.resolved_at) == (Case.Status.RESOLVED, at)
        return case

    return make


def test_auto_close_closes_resolved_cases_older_than_the_setting_and_not_newer(settings, resolved_case):
    settings.BATON_AUTO_CLOSE_DAYS = 3
    old = resolved_case(T0 + minutes(60))
    new = resolved_case(T0 + timedelta(days=2))
    now = T0 + minutes(60) + timedelta(days=3)  # exactly three days after the old one

    closed, more = services.case_auto_close_batch(now=now)

    assert (closed, more) == (1, False)
    old.refresh_from_db()
    assert (old.status, old.closed_at) == (Case.Status.CLOSED, now)
    callback = Handoff.objects.get(case=old, to_stage__code="CALL_BACK")
    assert (callback.status, callback.completed_at) == (Handoff.Status.COMPLETED, now)
    [event] = CaseEvent.objects.filter(case=old, kind=CaseEvent.Kind.CLOSED)
    assert (event.actor, event.payload["automatic"]) == (None, True)
    new.refresh_from_db()
    assert (new.status, new.closed_at) == (Case.Status.RESOLVED, None)
    assert open_handoff(new).status == Handoff.Status.PENDING
    # Rerun-safe: nothing left to close
    assert services.case_auto_close_batch(now=now) == (0, False)
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.CLOSED).count() == 1


def test_auto_close_works_in_bounded_batches(settings, resolved_case):
    settings.BATON_AUTO_CLOSE_DAYS = 7
    cases = [resolved_case(T0 + minutes(60 + i)) for i in range(3)]
    now = T0 + timedelta(days=8)

    assert services.case_auto_close_batch(now=now, limit=2) == (2, True)
    assert services.case_auto_close_batch(now=now, limit=2) == (1, False)
    assert services.case_auto_close_batch(now=now, limit=2) == (0, False)
    assert {c.status for c in Case.objects.filter(pk__in=[c.pk for c in cases])} == {Case.Status.CLOSED}


def test_the_auto_close_task_closes_what_is_due(settings, resolved_case):
    settings.BATON_AUTO_CLOSE_DAYS = 7
    case = resolved_case(T0 + minutes(60))  # months before the machine's clock

    assert tasks.auto_close_resolved.delay().get() == 1

    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
