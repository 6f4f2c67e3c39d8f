"""When a cycle runs and which period it reviews: period boundaries at midnight Asia/Shanghai (never
UTC), the due time on the cycle's day and hour, the catch-up after downtime, once per period."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import time_machine
from django.core import mail

from core.errors import StateConflict
from evaluations import tasks
from evaluations.reviews import services as reviews
from evaluations.reviews.models import ImprovementReview
from processes.models import OutboxEntry
from processes.outbox import deliver_due
from tests.support import addressed

from .support import sh

pytestmark = pytest.mark.django_db


def volume(review: ImprovementReview, department: str) -> str | None:
    card = next(c for c in review.findings["scorecards"] if c["department"] == department)
    return next(k["value"] for k in card["kpis"] if k["kpi"] == "volume")


CASES = {
    # kind: created, due, reviewed period (start, last day, label, starts_at, ends_at), intakes inside
    # the Shanghai period (but outside the UTC one), intakes outside it (but inside the UTC one), next run
    "monthly": (
        sh(2026, 11, 15, 10),
        sh(2026, 12, 1, 8),
        (
            date(2026, 11, 1),
            date(2026, 11, 30),
            "2026-11",
            "2026-11-01T00:00:00+08:00",
            "2026-12-01T00:00:00+08:00",
        ),
        [sh(2026, 11, 1, 0, 0, 30), sh(2026, 11, 30, 23, 59)],
        [sh(2026, 10, 31, 23, 59), sh(2026, 12, 1, 0, 0, 30), sh(2026, 12, 1, 7)],
        (date(2026, 12, 1), sh(2027, 1, 1, 8)),
    ),
    "weekly": (
        sh(2026, 11, 25, 10),
        sh(2026, 11, 30, 8),
        (
            date(2026, 11, 23),
            date(2026, 11, 29),
            "2026-W48",
            "2026-11-23T00:00:00+08:00",
            "2026-11-30T00:00:00+08:00",
        ),
        [sh(2026, 11, 23, 0, 0, 30), sh(2026, 11, 29, 23, 59)],
        [sh(2026, 11, 22, 23, 59), sh(2026, 11, 30, 0, 0, 30), sh(2026, 11, 30, 7)],
        (date(2026, 11, 30), sh(2026, 12, 7, 8)),
    ),
    "quarterly": (
        sh(2026, 11, 15, 10),
        sh(2027, 1, 1, 8),
        (
            date(2026, 10, 1),
            date(2026, 12, 31),
            "2026-Q4",
            "2026-10-01T00:00:00+08:00",
            "2027-01-01T00:00:00+08:00",
        ),
        [sh(2026, 10, 1, 0, 0, 30), sh(2026, 12, 31, 23, 59)],
        [sh(2026, 9, 30, 23, 59), sh(2027, 1, 1, 0, 0, 30), sh(2027, 1, 1, 7)],
        (date(2027, 1, 1), sh(2027, 4, 1, 8)),
    ),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_a_cycle_due_at_0800_reviews_the_closed_period_in_shanghai_time_not_utc(world, no_kick, kind):
    created, due, (start, end, label, starts_at, ends_at), inside, outside, (next_start, next_run) = CASES[
        kind
    ]
    # Given a cycle that runs on the first day of the next period at 08:00 (Asia/Shanghai)
    cycle = world.cycle(kind=kind, now=created)
    assert (cycle.next_period_start, cycle.next_run_at) == (start, due)
    assert due.utcoffset() == timedelta(hours=8)
    # And intakes on both sides of each boundary: in UTC, 00:00:30 Shanghai still is the day before
    for at in inside + outside:
        world.open(at)

    # When beat triggers the task a minute before the due time, nothing happens
    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        assert tasks.run_due_review_cycles.delay().get()["reviews"] == []
    assert not ImprovementReview.objects.exists()

    # When it triggers at the due time
    with time_machine.travel(due, tick=False):
        result = tasks.run_due_review_cycles.delay().get()

    # Then the closed period was reviewed, with Shanghai midnights as its bounds
    review = ImprovementReview.objects.get()
    assert result["reviews"] == [review.pk]
    assert (review.kind, review.period_start, review.period_end, review.run_at) == (kind, start, end, due)
    period = review.findings["period"]
    assert (period["label"], period["starts_at"], period["ends_at"]) == (label, starts_at, ends_at)
    # The front received exactly the intakes of the Shanghai period (UTC bounds would give 3)
    assert volume(review, "RV_FRONT") == "2.00"
    # And the next run is scheduled for the period now running
    cycle.refresh_from_db()
    assert (cycle.next_period_start, cycle.next_run_at, cycle.last_run_at) == (next_start, next_run, due)


def test_the_run_day_and_time_of_a_cycle_decide_its_due_time(world):
    cycle = world.cycle(now=sh(2026, 11, 15), run_day=3, run_time=time(9, 30))
    assert (cycle.next_period_start, cycle.next_run_at) == (date(2026, 11, 1), sh(2026, 12, 3, 9, 30))

    # Moving the day and hour moves the run of the same period
    cycle = reviews.review_cycle_update(
        cycle=cycle, actor=world.officer, run_day=2, run_time=time(8), now=sh(2026, 11, 20)
    )
    assert (cycle.next_period_start, cycle.next_run_at) == (date(2026, 11, 1), sh(2026, 12, 2, 8))


def test_a_cycle_created_on_its_day_before_its_hour_still_reviews_the_closed_period(world):
    cycle = world.cycle(now=sh(2026, 12, 1, 7, 30))
    assert (cycle.next_period_start, cycle.next_run_at) == (date(2026, 11, 1), sh(2026, 12, 1, 8))
    later = world.cycle(now=sh(2026, 12, 1, 8, 30), name="later")
    assert (later.next_period_start, later.next_run_at) == (date(2026, 12, 1), sh(2027, 1, 1, 8))


def test_runs_missed_while_the_system_was_down_are_caught_up_one_period_each(world, no_kick):
    # Given a monthly cycle whose first run (August, due 1 September) was missed, and three more
    cycle = world.cycle(now=sh(2026, 8, 20))
    assert cycle.next_run_at == sh(2026, 9, 1, 8)

    # When the system comes back on 5 December
    back = sh(2026, 12, 5, 10)
    result = reviews.review_cycle_run_due(now=back)

    # Then each missed month was reviewed once, oldest first, and the schedule is up to date
    runs = list(ImprovementReview.objects.order_by("pk").values_list("period_start", "run_at"))
    assert runs == [(date(2026, m, 1), back) for m in (8, 9, 10, 11)]
    assert result.reviews == list(ImprovementReview.objects.order_by("pk").values_list("pk", flat=True))
    assert result.skipped == []
    cycle.refresh_from_db()
    assert (cycle.next_period_start, cycle.next_run_at, cycle.last_error) == (
        date(2026, 12, 1),
        sh(2027, 1, 1, 8),
        "",
    )
    # And running again changes nothing
    assert reviews.review_cycle_run_due(now=back + timedelta(minutes=5)).reviews == []
    assert ImprovementReview.objects.count() == 4


def test_the_catch_up_is_bounded_and_says_what_it_skipped(world, no_kick, settings):
    settings.BATON_REVIEW_CATCH_UP = 2
    cycle = world.cycle(now=sh(2026, 8, 20))

    result = reviews.review_cycle_run_due(now=sh(2026, 12, 5, 10))

    assert list(
        ImprovementReview.objects.order_by("period_start").values_list("period_start", flat=True)
    ) == [
        date(2026, 10, 1),
        date(2026, 11, 1),
    ]
    assert result.skipped == ["2026-08", "2026-09"]
    cycle.refresh_from_db()
    assert cycle.next_period_start == date(2026, 12, 1)
    assert "2026-08, 2026-09" in cycle.last_error


def test_triggering_a_run_twice_gives_one_review_and_one_email_per_recipient(world, no_kick):
    cycle = world.cycle(now=sh(2026, 11, 15), extra_recipients="board@bank.example")
    world.bounces(sh(2026, 11, 3, 10), total=4, returned=1)
    due = sh(2026, 12, 1, 8)

    first = reviews.review_cycle_run_due(now=due)
    keys = sorted(addressed(due).values_list("dedup_key", flat=True))
    second = reviews.review_cycle_run_due(now=due)
    again, created = reviews.review_cycle_run(
        cycle=cycle, period_start=date(2026, 11, 1), at=due + timedelta(hours=1)
    )

    review = ImprovementReview.objects.get()
    assert first.reviews == [review.pk] and second.reviews == [] and (again, created) == (review, False)
    assert list(OutboxEntry.objects.values_list("dedup_key", flat=True)) == [f"review:{review.pk}"]
    assert sorted(addressed(due + timedelta(hours=1)).values_list("dedup_key", flat=True)) == keys
    # The officer (quality office), both leads, and the extra address: one e-mail each, ever
    assert keys == sorted(
        [
            f"review:{review.pk}:board@bank.example",
            *(f"review:{review.pk}:{u.pk}" for u in (world.officer, world.front_lead, world.back_lead)),
        ]
    )
    assert review.emails == 4
    assert deliver_due(now=due + timedelta(minutes=1)) == (4, 0)
    assert deliver_due(now=due + timedelta(hours=2)) == (0, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [
            "board@bank.example",
            "rv_officer@bank.example",
            "rv_front_lead@bank.example",
            "rv_back_lead@bank.example",
        ]
    )


def test_a_failing_cycle_does_not_stop_the_others_and_is_retried_an_hour_later(world, no_kick):
    broken = world.cycle(now=sh(2026, 11, 15), name="broken", departments=[world.other])
    fine = world.cycle(now=sh(2026, 11, 15), name="fine")
    world.other.is_active = False
    world.other.save(update_fields=["is_active"])
    due = sh(2026, 12, 1, 8)

    result = reviews.review_cycle_run_due(now=due)

    assert result.failed == {broken.pk: "cycle_without_departments"}
    assert list(ImprovementReview.objects.values_list("cycle_id", flat=True)) == [fine.pk]
    broken.refresh_from_db()
    assert broken.next_period_start == date(2026, 11, 1)
    assert broken.next_run_at == due + timedelta(hours=1)
    assert "cycle_without_departments" in broken.last_error


def test_a_period_that_has_not_ended_cannot_be_reviewed(world):
    cycle = world.cycle(now=sh(2026, 11, 15))
    with pytest.raises(StateConflict) as caught:
        reviews.review_cycle_run(cycle=cycle, period_start=date(2026, 11, 1), at=sh(2026, 11, 30, 23, 59))
    assert caught.value.code == "period_not_closed"
    assert not ImprovementReview.objects.exists()
