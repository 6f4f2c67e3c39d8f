"""`manage.py compute_evaluations` and the demo data of the evaluations app."""

from __future__ import annotations

import time
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from evaluations.demo import seed_evaluations
from evaluations.models import CustomerFeedback, Evaluation, EvaluationRun, Inspection
from processes.models import Case, CaseEvent

from .support import T0

pytestmark = pytest.mark.django_db


def test_compute_evaluations_command_computes_consecutive_periods(world):
    world.open(T0)
    out, err = StringIO(), StringIO()

    call_command(
        "compute_evaluations",
        "--period",
        "monthly",
        "--start",
        "2026-10-01",
        "--count",
        "2",
        stdout=out,
        stderr=err,
    )

    assert "4 evaluations computed for 2 monthly period(s) from 2026-10" in out.getvalue()
    assert set(EvaluationRun.objects.values_list("period_start", flat=True)) == {
        date(2026, 10, 1),
        date(2026, 11, 1),
    }
    assert Evaluation.objects.count() == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "monthly", "--start", "2026-11-02"], "does not start a monthly period"),
        (["--period", "weekly", "--start", "2026-11-01"], "does not start a weekly period"),
        (["--period", "monthly", "--start", "November"], "not a date"),
        (["--period", "monthly", "--start", "2026-11-01", "--count", "0"], "at least 1"),
    ],
)
def test_compute_evaluations_command_refuses_bad_input(world, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("compute_evaluations", *args, stdout=StringIO(), stderr=StringIO())


def test_the_demo_gets_feedback_inspections_and_evaluations_and_a_rerun_adds_nothing(org):
    from django.utils import timezone

    from processes.demo_history import seed_history

    now = timezone.now()
    seed_history(cases=60, days=120, now=now)
    closed = Case.objects.filter(source="demo", status=Case.Status.CLOSED).count()

    started = time.perf_counter()
    first = seed_evaluations(now=now)
    elapsed = time.perf_counter() - started
    feedback = CustomerFeedback.objects.count()
    events = CaseEvent.objects.filter(kind=CaseEvent.Kind.FEEDBACK_RECEIVED).count()
    inspections = Inspection.objects.count()
    evaluations = Evaluation.objects.count()

    second = seed_evaluations(now=now)

    assert 0.4 * closed <= feedback <= 0.8 * closed
    assert events == feedback
    assert all(f.source == "demo" for f in CustomerFeedback.objects.all())
    assert inspections > 0 and Inspection.objects.filter(status="completed").exists()
    # 6 months + 8 weeks + 2 quarters, for every department
    assert EvaluationRun.objects.count() == 16
    assert evaluations == 16 * len(org.departments)
    assert first["feedback"] == feedback and second["feedback"] == 0
    assert (CustomerFeedback.objects.count(), Inspection.objects.count(), Evaluation.objects.count()) == (
        feedback,
        inspections,
        evaluations,
    )
    assert elapsed < 60
    assert Evaluation.objects.filter(overall_score__isnull=False).exists()
    assert (
        max(e.period_start for e in Evaluation.objects.filter(kind="monthly"))
        >= (now - timedelta(days=31)).date()
    )


def test_the_periodic_task_computes_the_current_and_previous_periods(world):
    from evaluations.tasks import compute_recent_evaluations

    result = compute_recent_evaluations.delay().get()
    again = compute_recent_evaluations.delay().get()

    assert len(result) == 6 and set(result.values()) == {2}
    assert again == result
    assert EvaluationRun.objects.count() == 6
    assert Evaluation.objects.count() == 12
