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

import re
from datetime import datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput, NotFound, PermissionDenied
from departments.models import Department
from evaluations import policy as evaluation_policy
from evaluations.models import Level, Scorecard
from evaluations.periods import TZ, Period, PeriodKind, period_containing
from evaluations.reviews import policy
from evaluations.reviews.models import (
    MAX_RUN_DAY,
    ReviewCycle,
)
from evaluations.reviews.services.common import (
    _invalid,
    _local_today,
)


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
