"""Daily reminders of improvement actions due soon or overdue: through the outbox, one per action,
recipient and day, however often the task runs."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from departments.models import UserSettings
from evaluations import tasks
from evaluations.reviews import services as reviews
from evaluations.reviews.emails import NotificationKind
from evaluations.reviews.models import ImprovementAction
from processes.models import Notification, OutboxEntry
from tests.support import addressed, delivered

from .support import sh

pytestmark = pytest.mark.django_db
Kind = ImprovementAction.Kind


@pytest.fixture
def actions(world, no_kick):
    """Planned on 1 December: due 11 December (soon on the 10th), due 7 December (overdue on the
    10th), due 28 December (not yet), and one due 5 December that is done."""
    cycle = world.cycle(now=sh(2026, 11, 15))
    review, _ = reviews.review_cycle_run(cycle=cycle, period_start=date(2026, 11, 1), at=sh(2026, 12, 1, 8))
    OutboxEntry.objects.all().delete()  # and the messages made from them
    Notification.objects.all().delete()
    planned = {}
    for name, department, owner, due in (
        ("soon", world.back, world.back_agent, date(2026, 12, 11)),
        ("overdue", world.front, world.front_agent, date(2026, 12, 7)),
        ("later", world.back, world.back_agent, date(2026, 12, 28)),
        ("done", world.front, world.front_agent, date(2026, 12, 5)),
    ):
        planned[name] = reviews.action_create(
            review=review,
            department=department,
            owner=owner,
            title=f"Action {name}",
            kind=Kind.TRAINING,
            due_date=due,
            actor=world.officer,
            at=sh(2026, 12, 1, 10),
        )
    for status in ("in_progress", "done"):
        reviews.action_change_status(
            action=planned["done"], status=status, actor=world.front_agent, at=sh(2026, 12, 2)
        )
    return planned


def test_owners_are_reminded_of_actions_due_soon_and_leads_of_overdue_ones(world, actions):
    UserSettings.objects.create(user=world.front_lead, language="en")

    with time_machine.travel(sh(2026, 12, 10, 8, 30), tick=False):
        queued = tasks.remind_improvement_actions.delay().get()

    rows = {
        (n.dedup_key, n.recipient): n
        for n in delivered(sh(2026, 12, 10, 8, 30)).filter(kind=NotificationKind.ACTION_REMINDER)
    }
    soon, overdue = actions["soon"], actions["overdue"]
    assert sorted(rows) == sorted(
        [
            (f"action-reminder:{soon.pk}:2026-12-10:{world.back_agent.pk}", "rv_back_agent@bank.example"),
            (
                f"action-reminder:{overdue.pk}:2026-12-10:{world.front_agent.pk}",
                "rv_front_agent@bank.example",
            ),
            (f"action-reminder:{overdue.pk}:2026-12-10:{world.front_lead.pk}", "rv_front_lead@bank.example"),
        ]
    )
    assert queued == 2  # one reminder per action and day; its recipients are found at delivery
    lead = rows[
        (f"action-reminder:{overdue.pk}:2026-12-10:{world.front_lead.pk}", "rv_front_lead@bank.example")
    ]
    assert lead.subject == "[Baton] Improvement action overdue by 3 days: Action overdue"
    assert f"/admin/evaluations/improvementaction/{overdue.pk}/change/" in lead.body_text
    assert 'name="viewport"' in lead.body_html and "<table" not in lead.body_html
    owner = rows[
        (f"action-reminder:{soon.pk}:2026-12-10:{world.back_agent.pk}", "rv_back_agent@bank.example")
    ]
    assert owner.language == "zh-hans" and "2026-12-11" in owner.subject


def test_reminding_twice_a_day_adds_nothing_and_the_next_day_reminds_again(world, actions):
    reviews.actions_remind(now=sh(2026, 12, 10, 8, 30))
    entries = list(OutboxEntry.objects.order_by("pk").values_list("pk", "dedup_key", "facts"))
    first = set(addressed(sh(2026, 12, 10, 8, 30)).values_list("dedup_key", flat=True))
    reviews.actions_remind(now=sh(2026, 12, 10, 17))
    assert list(OutboxEntry.objects.order_by("pk").values_list("pk", "dedup_key", "facts")) == entries
    assert set(addressed(sh(2026, 12, 10, 17)).values_list("dedup_key", flat=True)) == first

    reviews.actions_remind(now=sh(2026, 12, 11, 8, 30))
    next_day = set(addressed(sh(2026, 12, 11, 8, 30)).values_list("dedup_key", flat=True)) - first
    assert {k.split(":")[2] for k in next_day} == {"2026-12-11"}
    assert len(next_day) == 3


def test_reminders_go_in_batches(world, actions):
    assert reviews.actions_remind(now=sh(2026, 12, 10, 8, 30), batch=1) == 2  # reminders, one per action
