"""The demo's reviews: a monthly cycle, the last closed months reviewed, actions in every state;
idempotent, and nobody e-mailed about the past."""

from __future__ import annotations

from collections import Counter

import pytest

from evaluations.reviews.demo import CYCLE_NAME, seed_reviews
from evaluations.reviews.models import ImprovementAction, ImprovementReview, ReviewCycle
from processes.models import OutboxEntry
from tests.support import addressed

from .support import sh

pytestmark = pytest.mark.django_db
NOW = sh(2026, 11, 29, 12)


@pytest.fixture
def history(demo_org):
    from processes.demo import seed_processes
    from processes.demo_history import seed_history

    seed_processes()
    seed_history(cases=80, days=130, now=NOW)


def test_the_demo_gets_a_monthly_cycle_reviews_and_actions_in_every_state(history):
    first = seed_reviews(now=NOW)

    cycle = ReviewCycle.objects.get(name=CYCLE_NAME)
    assert (cycle.kind, cycle.run_day, cycle.all_departments, cycle.is_active) == ("monthly", 1, True, True)
    assert cycle.next_run_at == sh(2026, 12, 1, 8)
    months = list(ImprovementReview.objects.order_by("period_start").values_list("period_start", "status"))
    assert [(d.month, s) for d, s in months] == [(8, "closed"), (9, "closed"), (10, "open")]
    statuses = Counter(ImprovementAction.objects.values_list("status", flat=True))
    assert set(statuses) == set(ImprovementAction.Status.values)
    assert any(a.is_overdue(NOW.date()) for a in ImprovementAction.objects.all())
    # The September review judged the August actions from September's data
    september = ImprovementReview.objects.get(period_start__month=9)
    assert {r["verdict"] for r in september.findings["checked_actions"]} == {"effective", "not_effective"}
    assert not OutboxEntry.objects.filter(kind__in=["review", "action_reminder"]).exists()
    assert not addressed(NOW).filter(kind__in=["review", "action_reminder"]).exists()
    assert first == {"reviews": 3, "actions": ImprovementAction.objects.count()}

    # Running it again adds nothing
    assert seed_reviews(now=NOW) == {"reviews": 0, "actions": 0}
    assert ImprovementReview.objects.count() == 3
