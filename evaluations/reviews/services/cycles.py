"""Improvement reviews (PDCA): every write of review cycles, reviews and improvement actions, one
function each, used by the admin, the API, the tasks and the demo alike (docs/architecture.md).

Once per period. A cycle's run for a period happens once however often, and from however many
workers, it is triggered: each run locks the cycle's row (`select_for_update`), looks for the review
of that period and returns it if it exists, and only then computes; the unique constraint on
(cycle, period_start) backs the lock up, and the e-mails carry the unique key
`review:<review id>:<recipient>`. The due sweep re-reads the cycle under the lock and does nothing
when another worker has advanced it meanwhile.

Catch-up. A cycle's `next_period_start` is the period its next run reviews, `next_run_at` when that
run is due. A sweep after downtime finds it in the past and runs every missed period in order, each
in its own transaction, at most BATON_REVIEW_CATCH_UP of them (older missed periods are skipped and
the skip is recorded on the cycle).

The findings are built by evaluations.reviews.findings, the e-mails by evaluations.reviews.emails.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApplicationError, InvalidInput, NotFound, PermissionDenied, StateConflict
from departments.models import Department
from evaluations import kpis, services
from evaluations import policy as evaluation_policy
from evaluations.models import EvaluationRun, EvaluationScore, Kpi, Level, Scorecard
from evaluations.periods import TZ, Period, PeriodKind, period_containing, period_starting
from evaluations.reviews import emails as review_emails
from evaluations.reviews import policy
from evaluations.reviews.findings import findings_build
from evaluations.reviews.models import (
    MAX_RUN_DAY,
    ImprovementAction,
    ImprovementActionEvent,
    ImprovementReview,
    ReviewCycle,
)

__all__ = [
    "action_change_status",
    "action_create",
    "action_update",
    "actions_remind",
    "findings_build",
    "review_close",
    "review_cycle_create",
    "review_cycle_run",
    "review_cycle_run_due",
    "review_cycle_update",
]

log = logging.getLogger(__name__)
Status = ImprovementAction.Status
EventKind = ImprovementActionEvent.Kind

# The allowed status changes of an action; everything else is a 409.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS}),
    Status.IN_PROGRESS: frozenset({Status.DONE}),
    # Back to work when it was not really done; or the check, by hand (an action without a KPI).
    Status.DONE: frozenset({Status.IN_PROGRESS, Status.VERIFIED, Status.NOT_EFFECTIVE}),
    Status.VERIFIED: frozenset(),
    Status.NOT_EFFECTIVE: frozenset(),
}
# How far along the path open → in progress → done → checked a status is (to name a skipped step).
STEP = {Status.OPEN: 0, Status.IN_PROGRESS: 1, Status.DONE: 2, Status.VERIFIED: 3, Status.NOT_EFFECTIVE: 3}
VERDICTS = (Status.VERIFIED, Status.NOT_EFFECTIVE)
RETRY_FAILED_RUN = timedelta(hours=1)
CENT = Decimal("0.01")
MAX_TEXT = 4000


def _catch_up_limit() -> int:
    return max(1, int(getattr(settings, "BATON_REVIEW_CATCH_UP", 6)))


def _remind_days() -> int:
    return int(getattr(settings, "BATON_ACTION_REMIND_DAYS", 3))


def _invalid(errors: list[tuple[str, str, str]], message: str = "Invalid input.") -> InvalidInput:
    """One 400 naming every bad field; its code is the errors' code when they share one."""
    fields: dict[str, list[str]] = {}
    for name, text, _code in errors:
        fields.setdefault(name, []).append(text)
    field_codes = {name: code for name, _text, code in reversed(errors)}
    codes = set(field_codes.values())
    return InvalidInput(
        message,
        code=codes.pop() if len(codes) == 1 else "invalid",
        extra={"fields": fields, "field_codes": field_codes},
    )


def _local_today(at: datetime) -> date:
    return at.astimezone(TZ).date()


# == the schedule ===================================================================================
def run_due_at(cycle: ReviewCycle, period: Period) -> datetime:
    """When the review of `period` is due: on day `run_day` of the following period, at `run_time`,
    Asia/Shanghai (the same zone as the period boundaries)."""
    day = period.next().start + timedelta(days=cycle.run_day - 1)
    return datetime.combine(day, cycle.run_time, tzinfo=TZ)


def first_period(cycle: ReviewCycle, now: datetime) -> Period:
    """The period a new (or re-activated) cycle reviews first: the closed one if its review is still
    to come today, otherwise the current one."""
    current = period_containing(cycle.kind, _local_today(now))
    previous = current.previous()
    return previous if run_due_at(cycle, previous) > now else current


def _schedule(cycle: ReviewCycle, period: Period) -> None:
    cycle.next_period_start = period.start
    cycle.next_run_at = run_due_at(cycle, period)


# == review cycles ==================================================================================
def _recipients_list(raw: Any, errors: list[tuple[str, str, str]]) -> str:
    addresses: list[str] = []
    for part in re.split(r"[\s,;]+", str(raw or "")):
        if not part:
            continue
        try:
            validate_email(part)
        except ValidationError:
            errors.append(("extra_recipients", f"{part!r} is not an e-mail address.", "invalid_email"))
            continue
        if part.lower() not in {a.lower() for a in addresses}:
            addresses.append(part)
    return "\n".join(addresses)


CYCLE_FIELDS = (
    "name",
    "kind",
    "run_day",
    "run_time",
    "all_departments",
    "notify_leads",
    "notify_quality_office",
    "extra_recipients",
    "chair",
    "inspection_scorecard",
    "inspection_level",
    "inspection_sample_size",
    "is_active",
)


def review_cycle_check(
    *,
    name: str,
    kind: str,
    run_day: Any,
    run_time: Any,
    all_departments: bool,
    departments: list[Department],
    extra_recipients: str = "",
    chair=None,
    inspection_scorecard: Scorecard | None = None,
    inspection_level: str = Level.QUALITY_OFFICE,
    inspection_sample_size: Any = 0,
    **_ignored: Any,
) -> dict[str, Any]:
    """Validate a cycle's settings (the admin's form calls this too); returns them cleaned, or raises
    one InvalidInput naming every bad field."""
    errors: list[tuple[str, str, str]] = []
    name = (name or "").strip()
    if not name:
        errors.append(("name", "A name is required.", "name_required"))
    elif len(name) > 200:
        errors.append(("name", "At most 200 characters.", "invalid"))
    if kind not in PeriodKind.values:
        errors.append(("kind", f"Use one of {', '.join(PeriodKind.values)}.", "unknown_period"))
    elif isinstance(run_day, bool) or not isinstance(run_day, int) or not 1 <= run_day <= MAX_RUN_DAY[kind]:
        errors.append(
            (
                "run_day",
                f"A {kind} review runs on day 1 to {MAX_RUN_DAY[kind]} of the next period.",
                "invalid_run_day",
            )
        )
    if not isinstance(run_time, time) or run_time.tzinfo is not None:
        errors.append(("run_time", "A time of day (Asia/Shanghai), e.g. 08:00.", "invalid_run_time"))
    active = [d for d in departments if d.is_active]
    if not all_departments and not active:
        errors.append(
            (
                "departments",
                "Choose the departments to review, or review all departments.",
                "cycle_without_departments",
            )
        )
    extra_recipients = _recipients_list(extra_recipients, errors)
    if (
        isinstance(inspection_sample_size, bool)
        or not isinstance(inspection_sample_size, int)
        or not 0 <= inspection_sample_size <= 100
    ):
        errors.append(("inspection_sample_size", "A whole number from 0 to 100.", "invalid"))
    elif inspection_sample_size:
        if inspection_scorecard is None or not inspection_scorecard.is_active:
            errors.append(
                ("inspection_scorecard", "Sampling needs an active scorecard.", "scorecard_required")
            )
        if inspection_level not in Level.values:
            errors.append(("inspection_level", f"Unknown level {inspection_level!r}.", "invalid"))
        if chair is None or not chair.has_perm(evaluation_policy.SAMPLE_INSPECTIONS):
            errors.append(
                (
                    "chair",
                    "Sampling is done in the chair's name: choose a chair who may sample.",
                    "chair_cannot_sample",
                )
            )
    if errors:
        raise _invalid(errors, "Invalid review cycle.")
    return {
        "name": name,
        "kind": kind,
        "run_day": run_day,
        "run_time": run_time,
        "all_departments": bool(all_departments),
        "departments": active,
        "extra_recipients": extra_recipients,
        "chair": chair,
        "inspection_scorecard": inspection_scorecard,
        "inspection_level": inspection_level,
        "inspection_sample_size": inspection_sample_size,
    }


def _require_administers(actor, perm: str = policy.ADMINISTER_CYCLES) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(perm):
        raise PermissionDenied(
            "Only the quality office administers review cycles.", code="cannot_administer_cycles"
        )


@transaction.atomic
def review_cycle_create(
    *,
    actor,
    name: str,
    kind: str,
    run_day: int = 1,
    run_time: time = time(8),
    all_departments: bool = True,
    departments: list[Department] | None = None,
    notify_leads: bool = True,
    notify_quality_office: bool = True,
    extra_recipients: str = "",
    chair=None,
    inspection_scorecard: Scorecard | None = None,
    inspection_level: str = Level.QUALITY_OFFICE,
    inspection_sample_size: int = 0,
    is_active: bool = True,
    now: datetime | None = None,
) -> ReviewCycle:
    """A new cycle, scheduled for its first due time after `now`."""
    now = now or timezone.now()
    _require_administers(actor, "evaluations.add_reviewcycle")
    cleaned = review_cycle_check(
        name=name,
        kind=kind,
        run_day=run_day,
        run_time=run_time,
        all_departments=all_departments,
        departments=list(departments or []),
        extra_recipients=extra_recipients,
        chair=chair,
        inspection_scorecard=inspection_scorecard,
        inspection_level=inspection_level,
        inspection_sample_size=inspection_sample_size,
    )
    chosen = cleaned.pop("departments")
    cycle = ReviewCycle(
        **cleaned,
        notify_leads=bool(notify_leads),
        notify_quality_office=bool(notify_quality_office),
        is_active=bool(is_active),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _schedule(cycle, first_period(cycle, now))
    cycle.full_clean(exclude=["departments"])
    cycle.save(force_insert=True)
    cycle.departments.set([] if cycle.all_departments else chosen)
    return cycle


def _lock_cycle(pk: int) -> ReviewCycle:
    try:
        return ReviewCycle.objects.select_for_update(no_key=True).get(pk=pk)
    except ReviewCycle.DoesNotExist as exc:
        raise NotFound("No such review cycle.") from exc


@transaction.atomic
def review_cycle_update(
    *, cycle: ReviewCycle, actor, now: datetime | None = None, **changes: Any
) -> ReviewCycle:
    """Change a cycle's settings. A new frequency, or switching it back on, schedules it afresh from
    now (a paused cycle does not catch up on what it skipped); a new day or time moves the next run
    of the same period."""
    now = now or timezone.now()
    _require_administers(actor)
    unknown = set(changes) - {*CYCLE_FIELDS, "departments"}
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.", code="invalid")
    cycle = _lock_cycle(cycle.pk)
    current = {f: getattr(cycle, f) for f in CYCLE_FIELDS}
    departments = changes.pop("departments", None)
    if departments is None:
        departments = list(cycle.departments.all())
    merged = {**current, **changes}
    cleaned = review_cycle_check(**merged, departments=list(departments))
    chosen = cleaned.pop("departments")
    was_active, old_kind = cycle.is_active, cycle.kind
    for name, value in {**merged, **cleaned}.items():
        setattr(cycle, name, value)
    if cycle.kind != old_kind or (cycle.is_active and not was_active) or cycle.next_period_start is None:
        _schedule(cycle, first_period(cycle, now))
    else:
        _schedule(cycle, cycle.next_period)
    cycle.updated_at = now
    cycle.full_clean(exclude=["departments"])
    cycle.save(update_fields=[*CYCLE_FIELDS, "next_period_start", "next_run_at", "updated_at"])
    cycle.departments.set([] if cycle.all_departments else chosen)
    return cycle


def reviewed_department_ids(cycle: ReviewCycle) -> list[int]:
    departments = Department.objects.filter(is_active=True)
    if not cycle.all_departments:
        departments = departments.filter(pk__in=cycle.departments.values("pk"))
    return sorted(departments.values_list("pk", flat=True))


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


# == improvement actions ============================================================================
def _parse_decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number.as_tuple().exponent < -2 or abs(number) >= Decimal("1e12"):
        return None
    return number.quantize(CENT)


def _check_due_date(due_date: Any, today: date, errors: list[tuple[str, str, str]]) -> None:
    if not isinstance(due_date, date) or isinstance(due_date, datetime):
        errors.append(("due_date", "A date, e.g. 2026-12-31.", "invalid"))
    elif due_date < today:
        errors.append(
            (
                "due_date",
                f"The due date {due_date.isoformat()} lies in the past (today is {today.isoformat()}).",
                "due_date_in_past",
            )
        )


def _check_owner(owner, department_id: int, errors: list[tuple[str, str, str]]) -> None:
    if owner is None:
        errors.append(("owner", "An owner is required.", "owner_required"))
    elif not policy.can_own_action(owner, department_id):
        errors.append(("owner", "The owner must work in the action's department.", "owner_not_in_department"))


def _check_goal(kpi_code: str, goal: Decimal | None, baseline: Decimal | None, errors) -> None:
    if not kpi_code:
        if goal is not None:
            errors.append(("goal", "A goal needs a KPI to be measured by.", "goal_without_kpi"))
        return
    if goal is None:
        errors.append(("goal", "Give the KPI value the action should reach.", "goal_required"))
        return
    if baseline is None:
        return  # no data in the reviewed period: any goal is a goal
    direction = Kpi.objects.filter(code=kpi_code).values_list("direction", flat=True).first()
    if goal == baseline or (direction is not None and not kpis.met(goal, baseline, direction)):
        errors.append(
            (
                "goal",
                f"The goal {goal} is no improvement on the baseline {baseline}.",
                "goal_not_an_improvement",
            )
        )


def _baseline(review: ImprovementReview, department_id: int, kpi_code: str) -> Decimal | None:
    return (
        EvaluationScore.objects.filter(
            evaluation__department_id=department_id,
            evaluation__kind=review.kind,
            evaluation__period_start=review.period_start,
            kpi_code=kpi_code,
        )
        .values_list("value", flat=True)
        .first()
    )


def _event(action, kind, actor, at, *, from_status="", to_status="", **payload) -> ImprovementActionEvent:
    event = ImprovementActionEvent(
        action=action,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor if actor is not None and actor.is_authenticated else None,
        created_at=at,
        payload=payload,
    )
    event.save(force_insert=True)
    return event


@transaction.atomic
def action_create(
    *,
    review: ImprovementReview,
    department: Department,
    owner,
    title: str,
    kind: str,
    due_date: date,
    actor,
    description: str = "",
    kpi_code: str = "",
    goal: Any = None,
    baseline: Any = None,
    at: datetime | None = None,
) -> ImprovementAction:
    """Plan an action in a review. Without a baseline, the department's value of the KPI in the
    reviewed period is taken; the goal must be an improvement on it."""
    at = at or timezone.now()
    policy.require_can_create_action(actor, department.pk)
    review = ImprovementReview.objects.select_for_update(no_key=True).get(pk=review.pk)
    errors: list[tuple[str, str, str]] = []
    title = (title or "").strip()
    if not title:
        errors.append(("title", "A title is required.", "title_required"))
    elif len(title) > 300:
        errors.append(("title", "At most 300 characters.", "invalid"))
    description = (description or "").strip()
    if len(description) > MAX_TEXT:
        errors.append(("description", f"At most {MAX_TEXT} characters.", "invalid"))
    if kind not in ImprovementAction.Kind.values:
        errors.append(("kind", f"Use one of {', '.join(ImprovementAction.Kind.values)}.", "invalid"))
    if not review.departments.filter(pk=department.pk).exists():
        errors.append(
            ("department", "This review did not review this department.", "department_not_in_review")
        )
    _check_owner(owner, department.pk, errors)
    _check_due_date(due_date, _local_today(at), errors)
    kpi_code = kpi_code or ""
    if kpi_code and kpi_code not in Kpi.Code.values:
        errors.append(("kpi", f"Unknown KPI {kpi_code!r}.", "unknown_kpi"))
        kpi_code = ""
    parsed_goal = _parse_decimal(goal)
    if goal not in (None, "") and parsed_goal is None:
        errors.append(("goal", "A number with at most 2 decimals.", "invalid"))
    parsed_baseline = _parse_decimal(baseline)
    if baseline not in (None, "") and parsed_baseline is None:
        errors.append(("baseline", "A number with at most 2 decimals.", "invalid"))
    if kpi_code and parsed_baseline is None and baseline in (None, ""):
        parsed_baseline = _baseline(review, department.pk, kpi_code)
    if not any(name == "goal" for name, *_ in errors):
        _check_goal(kpi_code, parsed_goal, parsed_baseline, errors)
    if errors:
        raise _invalid(errors, "Invalid improvement action.")
    if review.status == ImprovementReview.Status.CLOSED:
        raise StateConflict("This review is closed: decide the action in the next one.", code="review_closed")
    action = ImprovementAction(
        review=review,
        department=department,
        owner=owner,
        title=title,
        description=description,
        kind=kind,
        kpi_code=kpi_code,
        baseline=parsed_baseline if kpi_code else None,
        goal=parsed_goal,
        due_date=due_date,
        created_by=actor,
        created_at=at,
        updated_at=at,
    )
    action.save(force_insert=True)
    _event(
        action,
        EventKind.CREATED,
        actor,
        at,
        to_status=action.status,
        owner=owner.get_username(),
        due_date=due_date.isoformat(),
        kpi=kpi_code,
        baseline=None if action.baseline is None else str(action.baseline),
        goal=None if action.goal is None else str(action.goal),
    )
    return action


def _lock_action(action: ImprovementAction) -> ImprovementAction:
    try:
        return ImprovementAction.objects.select_for_update(no_key=True).get(pk=action.pk)
    except ImprovementAction.DoesNotExist as exc:
        raise NotFound("No such improvement action.") from exc


@transaction.atomic
def action_change_status(
    *,
    action: ImprovementAction,
    status: str,
    actor,
    note: str = "",
    result_value: Any = None,
    at: datetime | None = None,
) -> ImprovementAction:
    """Move an action along open → in progress → done, back from done to in progress, or judge a
    done action by hand (verified / not effective: the quality office). Skipping a step is a 409
    `action_step_skipped`; any other change the path does not allow a 409
    `action_transition_not_allowed`. Asking for the status it has is a no-op."""
    at = at or timezone.now()
    if status not in Status.values:
        raise _invalid([("status", f"Use one of {', '.join(Status.values)}.", "unknown_status")])
    action = _lock_action(action)
    # The right to ask comes before what the action's state makes of the request, a no-op included:
    # otherwise a caller without it learns the status from a 200 where a change would be refused.
    if status in VERDICTS:
        if not policy.can_verify_action(actor):
            raise PermissionDenied("Only the quality office judges an action.", code="cannot_verify_action")
    elif not policy.can_progress_action(actor, action):
        raise PermissionDenied(
            "Only the owner, the department's lead or the quality office moves an action.",
            code="cannot_change_action",
        )
    if action.status == status:
        return action
    allowed = TRANSITIONS[action.status]
    if status not in allowed:
        skipped = STEP[status] > STEP[action.status] + 1
        raise StateConflict(
            (
                f"An action goes step by step: from {action.status} the next step is "
                f"{' or '.join(sorted(allowed)) or 'none'}, not {status}."
            ),
            code="action_step_skipped" if skipped else "action_transition_not_allowed",
            extra={"status": action.status, "requested": status, "allowed": sorted(allowed)},
        )
    errors: list[tuple[str, str, str]] = []
    note = (note or "").strip()
    if len(note) > MAX_TEXT:
        errors.append(("note", f"At most {MAX_TEXT} characters.", "invalid"))
    value = _parse_decimal(result_value)
    if result_value not in (None, "") and value is None:
        errors.append(("result_value", "A number with at most 2 decimals.", "invalid"))
    if errors:
        raise _invalid(errors)
    previous = action.status
    action.status, action.updated_at = status, at
    fields = ["status", "updated_at"]
    if status == Status.IN_PROGRESS:
        if action.started_at is None:
            action.started_at = at
            fields.append("started_at")
        if previous == Status.DONE:
            action.done_at = None
            fields.append("done_at")
    elif status == Status.DONE:
        action.done_at = at
        fields.append("done_at")
    else:
        action.verified_at, action.result_value = at, value
        fields += ["verified_at", "result_value"]
    action.save(update_fields=fields)
    _event(action, EventKind.STATUS_CHANGED, actor, at, from_status=previous, to_status=status, note=note)
    return action


EDITABLE = ("title", "description", "owner", "due_date", "goal")


@transaction.atomic
def action_update(
    *, action: ImprovementAction, actor, at: datetime | None = None, **changes: Any
) -> ImprovementAction:
    """Edit what an action plans (title, description, owner, due date, goal) while it is still to be
    done or done; each change is recorded with its old and new value."""
    at = at or timezone.now()
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"These fields cannot be changed: {', '.join(sorted(unknown))}.", code="invalid")
    action = _lock_action(action)
    if not policy.can_progress_action(actor, action):
        raise PermissionDenied(
            "Only the owner, the department's lead or the quality office edits an action.",
            code="cannot_change_action",
        )
    if action.status in VERDICTS:
        raise StateConflict("A checked action cannot be changed.", code="action_checked")
    errors: list[tuple[str, str, str]] = []
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name in ("title", "description"):
            value = (value or "").strip()
            limit = 300 if name == "title" else MAX_TEXT
            if name == "title" and not value:
                errors.append(("title", "A title is required.", "title_required"))
            elif len(value) > limit:
                errors.append((name, f"At most {limit} characters.", "invalid"))
        elif name == "owner":
            if value is not None and value.pk == action.owner_id:
                continue
            _check_owner(value, action.department_id, errors)
            if value is not None and not (policy.can_create_action(actor, action.department_id)):
                errors.append(
                    (
                        "owner",
                        "Only the department's lead or the quality office hands an action over.",
                        "cannot_reassign",
                    )
                )
        elif name == "due_date":
            if value == action.due_date:
                continue
            _check_due_date(value, _local_today(at), errors)
        elif name == "goal":
            parsed = _parse_decimal(value)
            if value not in (None, "") and parsed is None:
                errors.append(("goal", "A number with at most 2 decimals.", "invalid"))
                continue
            _check_goal(action.kpi_code, parsed, action.baseline, errors)
            value = parsed
        values[name] = value
    if errors:
        raise _invalid(errors, "Invalid improvement action.")
    changed = {n: v for n, v in values.items() if getattr(action, n) != v}
    if not changed:
        return action

    def shown(name: str, value: Any) -> Any:
        if name == "owner":
            return value.get_username()
        return (
            value.isoformat()
            if isinstance(value, date)
            else (str(value) if isinstance(value, Decimal) else value)
        )

    record = {n: [shown(n, getattr(action, n)), shown(n, v)] for n, v in changed.items()}
    for name, value in changed.items():
        setattr(action, name, value)
    action.updated_at = at
    action.save(update_fields=[*changed, "updated_at"])
    _event(action, EventKind.EDITED, actor, at, changes=record)
    return action


# == reminders ======================================================================================
def actions_remind(*, now: datetime | None = None, batch: int = 500) -> int:
    """Queue the day's reminders: to the owner of every action still to be done that is due within
    BATON_ACTION_REMIND_DAYS days or overdue, and for overdue ones to the department's leads too.
    Rerun-safe: one reminder per action and day (`action-reminder:<id>:<day>`), one e-mail per
    reminder and recipient at delivery. Returns the number of reminders queued."""
    now = now or timezone.now()
    today = _local_today(now)
    due = ImprovementAction.objects.filter(
        status__in=ImprovementAction.PENDING, due_date__lte=today + timedelta(days=_remind_days())
    ).order_by("pk")
    queued, last = 0, 0
    while True:
        with transaction.atomic():
            rows = list(due.filter(pk__gt=last).select_related("owner", "department", "review")[:batch])
            if not rows:
                return queued
            queued += review_emails.queue_action_reminders(rows, today=today, at=now)
        last = rows[-1].pk
        if len(rows) < batch:
            return queued


def owners_for(department: Department):
    """Who may own an action of the department (the admin's and the API's choices)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__department=department)
        .distinct()
        .order_by("username")
    )
