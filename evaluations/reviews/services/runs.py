"""Running a review cycle: a period's review computed once, the due sweep with its catch-up, and
closing a review (the module docstring of evaluations.reviews.services.cycles says how)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApplicationError, InvalidInput, PermissionDenied, StateConflict
from evaluations import kpis, services
from evaluations.models import EvaluationRun, EvaluationScore, Kpi
from evaluations.periods import Period, period_starting
from evaluations.reviews import emails as review_emails
from evaluations.reviews import policy
from evaluations.reviews.findings import findings_build
from evaluations.reviews.models import (
    ImprovementAction,
    ImprovementActionEvent,
    ImprovementReview,
    ReviewCycle,
)
from evaluations.reviews.services.common import (
    RETRY_FAILED_RUN,
    EventKind,
    Status,
    _catch_up_limit,
    _invalid,
)
from evaluations.reviews.services.cycles import (
    _lock_cycle,
    _require_administers,
    _schedule,
    first_period,
    reviewed_department_ids,
    run_due_at,
)

log = logging.getLogger(__name__)


# == running a cycle ================================================================================
@dataclass
class DueRun:
    """What one sweep did: the reviews it created, the periods it skipped, the cycles that failed."""

    reviews: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def review_cycle_run_due(*, now: datetime | None = None) -> DueRun:
    """Run every active cycle whose next run is due, for each period it is behind on (bounded)."""
    now = now or timezone.now()
    result = DueRun()
    due = list(
        ReviewCycle.objects.filter(is_active=True, next_run_at__lte=now)
        .order_by("next_run_at", "pk")
        .values_list("pk", flat=True)
    )
    for cycle_id in due:
        for _ in range(_catch_up_limit()):
            try:
                step = _run_next_due(cycle_id, now)
            except ApplicationError as exc:
                # One broken cycle must not keep the others from running; it is retried later.
                log.warning("review cycle %s could not run: %s (%s)", cycle_id, exc.message, exc.code)
                _record_failure(cycle_id, exc, now)
                result.failed[cycle_id] = exc.code
                break
            if step is None:
                break
            review, skipped = step
            result.reviews.append(review.pk)
            result.skipped += skipped
    return result


@transaction.atomic
def _run_next_due(cycle_id: int, now: datetime) -> tuple[ImprovementReview, list[str]] | None:
    """One due period of one cycle, in one transaction under the cycle's row lock."""
    cycle = ReviewCycle.objects.select_for_update(no_key=True).filter(pk=cycle_id).first()
    # Re-read under the lock: another worker may have run it (and advanced it) meanwhile.
    if cycle is None or not cycle.is_active or cycle.next_run_at is None or cycle.next_run_at > now:
        return None
    period = cycle.next_period or first_period(cycle, now)
    skipped = []
    limit = _catch_up_limit()
    while True:
        ahead = period
        for _ in range(limit):
            ahead = ahead.next()
        if run_due_at(cycle, ahead) > now:
            break
        skipped.append(period.label)  # more than `limit` periods behind: the oldest ones are dropped
        period = period.next()
    if skipped:
        log.warning(
            "review cycle %s skipped %s missed periods: %s", cycle.pk, len(skipped), ", ".join(skipped)
        )
    review, _created = _run_period(cycle, period, now)
    _advance(cycle, period.next(), now, skipped)
    return review, skipped


def _advance(cycle: ReviewCycle, period: Period, at: datetime, skipped: list[str] | tuple = ()) -> None:
    _schedule(cycle, period)
    if skipped:
        cycle.last_error = (
            f"{timezone.localtime(at):%Y-%m-%d %H:%M} skipped (too far behind): {', '.join(skipped)}"
        )
    elif cycle.last_run_at != at:
        # A later sweep ran fine: the note of an earlier one is history. (The runs of one catch-up
        # share their time and keep what the first of them noted.)
        cycle.last_error = ""
    cycle.last_run_at = at
    cycle.save(update_fields=["next_period_start", "next_run_at", "last_run_at", "last_error"])


def _record_failure(cycle_id: int, exc: ApplicationError, now: datetime) -> None:
    ReviewCycle.objects.filter(pk=cycle_id).update(
        last_error=f"{timezone.localtime(now):%Y-%m-%d %H:%M} {exc.code}: {exc.message}"[:2000],
        next_run_at=now + RETRY_FAILED_RUN,
    )


@transaction.atomic
def review_cycle_run(
    *, cycle: ReviewCycle, period_start: date, at: datetime | None = None, actor=None
) -> tuple[ImprovementReview, bool]:
    """Run a cycle for one closed period now (the admin's "run now", the demo, a catch-up by hand).
    Returns (review, created): the existing review when the period was run before. The schedule
    moves past the period if it had not got there yet."""
    at = at or timezone.now()
    if actor is not None:
        _require_administers(actor)
    cycle = _lock_cycle(cycle.pk)
    period = period_starting(cycle.kind, period_start)
    if period.ends_at > at:
        raise StateConflict(
            f"The period {period.label} has not ended yet; it can be reviewed from {period.ends_at:%Y-%m-%d %H:%M}.",
            code="period_not_closed",
        )
    review, created = _run_period(cycle, period, at)
    if cycle.next_period_start is None or period.start >= cycle.next_period_start:
        _advance(cycle, period.next(), at)
    return review, created


def _run_period(cycle: ReviewCycle, period: Period, at: datetime) -> tuple[ImprovementReview, bool]:
    """The run itself; the caller holds the cycle's row lock."""
    existing = ImprovementReview.objects.filter(cycle=cycle, period_start=period.start).first()
    if existing is not None:
        return existing, False
    department_ids = reviewed_department_ids(cycle)
    if not department_ids:
        raise InvalidInput(
            "This cycle reviews no active department.",
            code="cycle_without_departments",
            extra={
                "fields": {"departments": ["Choose the departments to review, or review all departments."]}
            },
        )
    # Do: the evaluations of the period (and of the one before, for the trend, if never computed).
    services.evaluation_compute_period(kind=period.kind, start=period.start, now=at)
    previous = period.previous()
    if not EvaluationRun.objects.filter(
        kind=previous.kind, period_start=previous.start, computed_at__isnull=False
    ).exists():
        services.evaluation_compute_period(kind=previous.kind, start=previous.start, now=at)
    notes = _sample(cycle, period, at)
    try:
        with transaction.atomic():
            review = ImprovementReview.objects.create(
                cycle=cycle, kind=period.kind, period_start=period.start, period_end=period.end, run_at=at
            )
    except IntegrityError:  # only without a row lock (SQLite ignores it): a twin committed first
        existing = ImprovementReview.objects.filter(cycle=cycle, period_start=period.start).first()
        if existing is None:
            raise
        return existing, False
    review.departments.set(department_ids)
    # Check: the actions earlier reviews of this cycle decided, against the new evaluation.
    _check_actions(review, department_ids, at)
    review.findings = findings_build(review=review, notes=notes)
    # How many e-mails the review makes (none when muted, e.g. the demo replaying history).
    review.emails = review_emails.queue_review_emails(review, at=at)
    review.save(update_fields=["findings", "emails"])
    return review, True


def _sample(cycle: ReviewCycle, period: Period, at: datetime) -> list[str]:
    """Sample cases for inspection in the chair's name; a refusal is a note, not a failed review."""
    if not cycle.inspection_sample_size or cycle.inspection_scorecard is None or cycle.chair is None:
        return []
    try:
        services.inspection_sample(
            kind=period.kind,
            start=period.start,
            per_department=cycle.inspection_sample_size,
            level=cycle.inspection_level,
            scorecard=cycle.inspection_scorecard,
            actor=cycle.chair,
            at=at,
        )
    except ApplicationError as exc:
        return [f"inspection_sample: {exc.code}"]
    except Exception:  # the sample is a side dish: the review, its checks and e-mails go ahead
        log.exception("review cycle %s: sampling %s for inspection failed", cycle.pk, period.label)
        return ["inspection_sample: failed"]
    return []


def _check_actions(review: ImprovementReview, department_ids: list[int], at: datetime) -> None:
    """Done actions with a KPI, from earlier reviews of the cycle, finished before this period ended:
    the KPI's new value against the goal makes them verified (effective) or not effective. Without a
    value in this period (no data) they wait for the next review."""
    period = review.period
    actions = list(
        ImprovementAction.objects.select_for_update(no_key=True, of=("self",))
        .filter(
            review__cycle_id=review.cycle_id,
            review__period_start__lt=period.start,
            status=Status.DONE,
            done_at__lt=period.ends_at,
            department_id__in=department_ids,
        )
        .exclude(kpi_code="")
        .order_by("pk")
    )
    if not actions:
        return
    scores = {
        (s.evaluation.department_id, s.kpi_code): s
        for s in EvaluationScore.objects.filter(
            evaluation__kind=period.kind,
            evaluation__period_start=period.start,
            evaluation__department_id__in={a.department_id for a in actions},
            kpi_code__in={a.kpi_code for a in actions},
        ).select_related("evaluation")
    }
    directions = dict(Kpi.objects.values_list("code", "direction"))
    events = []
    for action in actions:
        score = scores.get((action.department_id, action.kpi_code))
        if score is None or score.value is None:
            continue
        direction = score.direction or directions.get(action.kpi_code)
        effective = kpis.met(score.value, action.goal, direction)
        previous_status = action.status
        action.status = Status.VERIFIED if effective else Status.NOT_EFFECTIVE
        action.result_value, action.result_review, action.verified_at, action.updated_at = (
            score.value,
            review,
            at,
            at,
        )
        action.save(update_fields=["status", "result_value", "result_review", "verified_at", "updated_at"])
        events.append(
            ImprovementActionEvent(
                action=action,
                kind=EventKind.CHECKED,
                from_status=previous_status,
                to_status=action.status,
                created_at=at,
                payload={
                    "review": review.pk,
                    "period": period.label,
                    "kpi": action.kpi_code,
                    "baseline": None if action.baseline is None else str(action.baseline),
                    "goal": str(action.goal),
                    "value": str(score.value),
                    "effective": effective,
                },
            )
        )
    ImprovementActionEvent.objects.bulk_create(events)


@transaction.atomic
def review_close(
    *, review: ImprovementReview, actor, minutes: str, close: bool = True, at: datetime | None = None
):
    """Record the minutes of the review meeting; `close` concludes the review (no new actions)."""
    at = at or timezone.now()
    review = (
        ImprovementReview.objects.select_for_update(no_key=True).select_related("cycle").get(pk=review.pk)
    )
    if not (actor is not None and actor.is_authenticated and actor.is_active) or not (
        actor.has_perm(policy.ADMINISTER_CYCLES) or actor.pk == review.cycle.chair_id
    ):
        raise PermissionDenied(
            "Only the chair or the quality office records the minutes.", code="cannot_record_minutes"
        )
    if review.status == ImprovementReview.Status.CLOSED:
        raise StateConflict("This review is closed.", code="review_closed")
    minutes = (minutes or "").strip()
    if len(minutes) > 20000:
        raise _invalid([("minutes", "At most 20000 characters.", "invalid")])
    review.minutes = minutes
    fields = ["minutes"]
    if close:
        review.status, review.closed_at, review.closed_by = ImprovementReview.Status.CLOSED, at, actor
        fields += ["status", "closed_at", "closed_by"]
    review.save(update_fields=fields)
    return review
