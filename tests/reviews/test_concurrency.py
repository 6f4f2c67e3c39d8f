"""Two workers at once (real threads on PostgreSQL, each with its own connection): one review per
cycle and period, one e-mail per recipient. What makes it hold: the row lock on the cycle, re-read
under the lock, and the unique (cycle, period_start) behind it."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connections

from evaluations.reviews import services as reviews
from evaluations.reviews.emails import NotificationKind
from evaluations.reviews.models import ImprovementReview
from processes.models import OutboxEntry
from processes.outbox import deliver_due
from tests.support import addressed

from .support import ReviewWorld, sh

DUE = sh(2026, 12, 1, 8)


def in_threads(target, count: int = 2) -> list:
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


@pytest.fixture
def cycle(transactional_db, no_kick):
    world = ReviewWorld()
    cycle = world.cycle(now=sh(2026, 11, 15), extra_recipients="board@bank.example")
    world.bounces(sh(2026, 11, 3, 10), total=4, returned=2)
    return cycle


def assert_one_review_and_one_email_each() -> ImprovementReview:
    review = ImprovementReview.objects.get()
    assert list(OutboxEntry.objects.values_list("dedup_key", flat=True)) == [f"review:{review.pk}"]
    keys = Counter(addressed(DUE).filter(kind=NotificationKind.REVIEW).values_list("dedup_key", flat=True))
    assert len(keys) == 4 and set(keys.values()) == {1}
    assert all(k.startswith(f"review:{review.pk}:") for k in keys)
    assert deliver_due(now=DUE + timedelta(minutes=1)) == (4, 0)
    assert deliver_due(now=DUE + timedelta(minutes=2)) == (0, 0)
    assert Counter(m.to[0] for m in mail.outbox) == Counter(
        {
            "rv_officer@bank.example": 1,
            "rv_front_lead@bank.example": 1,
            "rv_back_lead@bank.example": 1,
            "board@bank.example": 1,
        }
    )
    return review


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beat_sweeps_at_once_run_a_cycle_once(cycle):
    results = in_threads(lambda: reviews.review_cycle_run_due(now=DUE))

    review = assert_one_review_and_one_email_each()
    assert sorted(len(r.reviews) for r in results) == [0, 1]
    assert next(r for r in results if r.reviews).reviews == [review.pk]
    cycle.refresh_from_db()
    assert (cycle.next_period_start, cycle.next_run_at) == (date(2026, 12, 1), sh(2027, 1, 1, 8))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_explicit_runs_of_one_period_at_once_give_one_review(cycle):
    results = in_threads(
        lambda: reviews.review_cycle_run(cycle=cycle, period_start=date(2026, 11, 1), at=DUE)
    )

    review = assert_one_review_and_one_email_each()
    assert sorted(created for _review, created in results) == [False, True]
    assert {r.pk for r, _created in results} == {review.pk}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_to_rewrite_an_actions_history(cycle):
    from django.db import DatabaseError, connection, transaction

    from evaluations.reviews.models import ImprovementAction, ImprovementActionEvent

    review, _ = reviews.review_cycle_run(cycle=cycle, period_start=date(2026, 11, 1), at=DUE)
    world_lead = review.departments.get(code="RV_BACK").memberships.get(role="lead").user
    reviews.action_create(
        review=review,
        department=review.departments.get(code="RV_BACK"),
        owner=world_lead,
        title="t",
        kind=ImprovementAction.Kind.TRAINING,
        due_date=date(2026, 12, 20),
        actor=world_lead,
        at=DUE,
    )
    table = ImprovementActionEvent._meta.db_table
    for sql in (f"UPDATE {table} SET kind = 'edited'", f"DELETE FROM {table}"):  # noqa: S608
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as c,
        ):
            c.execute(sql)
    assert ImprovementActionEvent.objects.count() == 1
