"""Computing a period: replacing on recompute, stored targets and weights, the number of queries,
and two recomputes at once (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluations import services
from evaluations.models import Evaluation, EvaluationRun, EvaluationScore, Kpi
from tests.factories import DepartmentFactory

from .support import AFTER, NOVEMBER, T0, World, compute, value

DECEMBER = date(2026, 12, 1)


def _snapshot():
    return sorted(
        (
            e.pk,
            e.department_id,
            e.overall_score,
            e.grade,
            tuple(
                sorted(
                    (s.kpi_code, s.value, s.target, s.weight, s.met, s.sample_size) for s in e.scores.all()
                )
            ),
        )
        for e in Evaluation.objects.prefetch_related("scores")
    )


@pytest.mark.django_db
def test_recomputing_a_period_twice_leaves_one_evaluation_per_department_with_the_same_values(world):
    for i in range(6):
        case = world.at_back(T0 + timedelta(hours=i), accept_after=i * 3)
        world.resolve(case, T0 + timedelta(hours=i, minutes=40))

    compute()
    first = _snapshot()
    compute()
    second = _snapshot()

    assert first == second
    assert Evaluation.objects.filter(kind="monthly", period_start=NOVEMBER).count() == 2
    assert EvaluationScore.objects.count() == 2 * Kpi.objects.filter(is_active=True).count()
    assert EvaluationRun.objects.get(kind="monthly", period_start=NOVEMBER).departments == 2


@pytest.mark.django_db
def test_recomputing_picks_up_new_data_and_keeps_the_evaluation(world):
    case = world.open(T0)
    world.accept(case, T0 + timedelta(minutes=5))
    (before,) = [e for e in compute() if e.department_id == world.front.pk]

    late = world.open(T0 + timedelta(hours=1))
    world.accept(late, T0 + timedelta(hours=1, minutes=30))
    (after,) = [e for e in compute() if e.department_id == world.front.pk]

    assert after.pk == before.pk
    assert value(world.front, "response_sla_rate") == (Decimal("50.00"), 2)


@pytest.mark.django_db
def test_an_evaluation_keeps_the_targets_and_weights_it_was_computed_with(world):
    case = world.open(T0)
    world.accept(case, T0 + timedelta(minutes=5))
    compute()
    Kpi.objects.filter(code="response_sla_rate").update(target=Decimal("99.5"), weight=Decimal("7"))

    compute(start=DECEMBER)

    nov = EvaluationScore.objects.get(
        evaluation__department=world.front, evaluation__period_start=NOVEMBER, kpi_code="response_sla_rate"
    )
    dec = EvaluationScore.objects.get(
        evaluation__department=world.front, evaluation__period_start=DECEMBER, kpi_code="response_sla_rate"
    )
    assert (nov.target, nov.weight) == (Decimal("95.00"), Decimal("20.00"))
    assert (dec.target, dec.weight) == (Decimal("99.50"), Decimal("7.00"))


@pytest.mark.django_db
def test_inactive_kpis_and_departments_are_left_out(world):
    Kpi.objects.filter(code="volume").update(is_active=False)
    world.open(T0)
    compute()
    world.back.is_active = False
    world.back.save(update_fields=["is_active"])

    evaluations = compute()

    assert [e.department_id for e in evaluations] == [world.front.pk]
    assert not Evaluation.objects.filter(department=world.back).exists()
    assert not EvaluationScore.objects.filter(kpi_code="volume").exists()


@pytest.mark.django_db
def test_a_date_that_starts_no_period_is_refused(world):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        services.evaluation_compute_period(kind="monthly", start=date(2026, 11, 2))
    assert exc.value.code == "not_a_period_start"
    with pytest.raises(InvalidInput) as exc:
        services.evaluation_compute_period(kind="yearly", start=date(2026, 1, 1))
    assert exc.value.code == "unknown_period"


def _busy(world: World, handoffs: int, start) -> None:
    """`handoffs` handoffs in the world starting at `start`: intakes, forwards, returns, a resolution."""
    made = 0
    i = 0
    while made < handoffs:
        at = start + timedelta(hours=i)
        case = world.open(at)
        made += 1
        if made < handoffs and i % 2 == 0:
            world.accept(case, at + timedelta(minutes=3))
            world.forward(case, at + timedelta(minutes=5))
            made += 1
        i += 1


@pytest.mark.django_db
def test_the_number_of_queries_grows_with_neither_departments_nor_handoffs():
    # Given 2 departments and 5 handoffs in November
    small = World("S")
    _busy(small, 5, T0)
    with CaptureQueriesContext(connection) as few:
        services.evaluation_compute_period(kind="monthly", start=NOVEMBER, now=AFTER)
    # And 6 departments and 50 handoffs in December
    for prefix in ("M", "L"):
        _busy(World(prefix), 20, T0 + timedelta(days=30))
    _busy(small, 10, T0 + timedelta(days=30))
    assert Evaluation.objects.count() == 2

    with CaptureQueriesContext(connection) as many:
        services.evaluation_compute_period(kind="monthly", start=DECEMBER, now=AFTER + timedelta(days=30))

    assert Evaluation.objects.filter(period_start=DECEMBER).count() == 6
    assert len(many.captured_queries) == len(few.captured_queries), [
        q["sql"][:120] for q in many.captured_queries
    ]


@pytest.mark.django_db
def test_the_number_of_queries_of_a_recompute_is_fixed_too():
    world = World("R")
    _busy(world, 5, T0)
    compute()
    with CaptureQueriesContext(connection) as few:
        compute()
    for _ in range(4):
        DepartmentFactory()
    _busy(world, 45, T0 + timedelta(days=1))
    with CaptureQueriesContext(connection) as many:
        compute()
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_recomputes_at_once_leave_one_evaluation_per_department():
    world = World("C")
    _busy(world, 10, T0)
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run():
        try:
            barrier.wait(timeout=10)
            compute()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert Evaluation.objects.count() == 2
    assert EvaluationScore.objects.count() == 2 * Kpi.objects.filter(is_active=True).count()
    assert EvaluationRun.objects.count() == 1
