"""Celery tasks of the evaluations app: a thin interface over the services. Ids in, service inside,
rerun-safe; the beat entries are declared in core/beat.py."""

from __future__ import annotations

from celery import shared_task

from processes.tasks import IDEMPOTENT


@shared_task(bind=True, soft_time_limit=240, time_limit=270, **IDEMPOTENT)
def compute_recent_evaluations(self) -> dict[str, int]:
    """Recompute the current and the previous period of every kind (weekly, monthly, quarterly), so
    that late events (feedback, inspections, breaches) reach the scores. Returns {kind:label: count}."""
    from evaluations.periods import PeriodKind, period_containing, today
    from evaluations.services import evaluation_compute_period

    day = today()
    result: dict[str, int] = {}
    for kind in PeriodKind.values:
        current = period_containing(kind, day)
        for period in (current.previous(), current):
            result[f"{kind}:{period.label}"] = len(evaluation_compute_period(kind=kind, start=period.start))
    return result


@shared_task(bind=True, soft_time_limit=240, time_limit=270, **IDEMPOTENT)
def run_due_review_cycles(self) -> dict:
    """Every few minutes: run each review cycle whose next run is due, for each period it is behind
    on. A cycle's period runs once however often this is triggered (evaluations.reviews)."""
    from evaluations.reviews.services import review_cycle_run_due

    result = review_cycle_run_due()
    return {"reviews": result.reviews, "skipped": result.skipped, "failed": result.failed}


@shared_task(bind=True, soft_time_limit=240, time_limit=270, **IDEMPOTENT)
def remind_improvement_actions(self) -> int:
    """Daily: remind owners (and for overdue actions the leads) of actions due soon or overdue."""
    from evaluations.reviews.services import actions_remind

    return actions_remind()
