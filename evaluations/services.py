"""Every write of the evaluations app: one function each, used by the admin, the API, the commands
and the demo alike (docs/architecture.md). Domain errors come from core.errors: InvalidInput
(400, with `fields`), PermissionDenied (403), NotFound (404), StateConflict (409)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import InvalidInput, NotFound, PermissionDenied, StateConflict
from core.errors import field_error as _invalid
from departments import policy as dept_policy
from departments.models import Department, Membership
from evaluations import kpis, policy
from evaluations.models import (
    CustomerFeedback,
    Evaluation,
    EvaluationRun,
    EvaluationScore,
    Inspection,
    InspectionScore,
    Kpi,
    Level,
    Scorecard,
)
from evaluations.periods import period_starting
from processes import case_records
from processes.models import Case, CaseEvent, Handoff

CENT = Decimal("0.01")
INSPECTABLE = (Case.Status.RESOLVED, Case.Status.CLOSED)


# == KPIs ===========================================================================================
# code, name, English name, unit, direction, target, weight. The migration 0002 seeds the same rows.
KPI_DEFAULTS: list[tuple[str, str, str, str, str, str | None, str]] = [
    ("response_sla_rate", "响应时效达标率", "Response SLA rate", "percent", "higher", "95", "20"),
    ("resolution_sla_rate", "办结时效达标率", "Resolution SLA rate", "percent", "higher", "90", "20"),
    ("median_minutes_to_accept", "受理用时中位数", "Median minutes to accept", "minutes", "lower", "60", "5"),
    ("p90_minutes_to_accept", "受理用时 P90", "P90 minutes to accept", "minutes", "lower", "240", "5"),
    ("bounce_rate", "退回率", "Bounce-back rate", "percent", "lower", "5", "10"),
    ("reopen_rate", "重开率", "Reopen rate", "percent", "lower", "3", "10"),
    ("repeat_complaint_rate", "重复投诉率", "Repeat complaint rate", "percent", "lower", "5", "5"),
    ("csat_avg", "客户满意度", "CSAT average", "score_5", "higher", "4.5", "10"),
    ("nps", "净推荐值", "NPS", "nps", "higher", "30", "10"),
    ("qa_score", "质检得分", "QA inspection score", "score_100", "higher", "85", "10"),
    ("volume", "受理量", "Volume", "count", "higher", None, "0"),
]


def kpi_ensure_defaults() -> int:
    """Create the built-in KPIs that are missing (never touching edited ones); returns how many."""
    existing = set(Kpi.objects.values_list("code", flat=True))
    missing = [
        Kpi(
            code=code,
            name=name,
            name_en=name_en,
            unit=unit,
            direction=direction,
            target=Decimal(target) if target is not None else None,
            weight=Decimal(weight),
            order=order,
        )
        for order, (code, name, name_en, unit, direction, target, weight) in enumerate(KPI_DEFAULTS)
        if code not in existing
    ]
    Kpi.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


# == evaluations ====================================================================================
@transaction.atomic
def evaluation_compute_period(*, kind: str, start: date, now: datetime | None = None) -> list[Evaluation]:
    """Compute (or recompute: the result replaces the previous one) every active department's
    evaluation of one period, in a fixed number of queries.

    Concurrent recomputes of one period queue on the row lock of its EvaluationRun. The evaluations
    are upserted on (department, period), so their ids stay stable across recomputes and whatever
    refers to an evaluation keeps referring to it; their KPI scores are deleted and re-inserted.
    """
    period = period_starting(kind, start)
    now = now or timezone.now()
    as_of = now
    run, _ = EvaluationRun.objects.get_or_create(
        kind=kind, period_start=period.start, defaults={"period_end": period.end}
    )
    run = EvaluationRun.objects.select_for_update(no_key=True).get(pk=run.pk)
    kpi_rows = list(Kpi.objects.filter(is_active=True).order_by("order", "code"))
    departments = list(
        Department.objects.filter(is_active=True).order_by("code").values_list("pk", flat=True)
    )
    measures = kpis.measure(kpis.Window(period.starts_at, period.ends_at, as_of))

    evaluations, scored_by_department = [], {}
    for department_id in departments:
        scored, overall, grade = kpis.score(measures.get(department_id, {}), kpi_rows)
        scored_by_department[department_id] = scored
        evaluations.append(
            Evaluation(
                department_id=department_id,
                kind=kind,
                period_start=period.start,
                period_end=period.end,
                overall_score=overall,
                grade=grade,
                computed_at=now,
                as_of=as_of,
            )
        )
    Evaluation.objects.bulk_create(
        evaluations,
        update_conflicts=True,
        unique_fields=["department", "kind", "period_start"],
        update_fields=["period_end", "overall_score", "grade", "computed_at", "as_of"],
    )
    in_period = {"evaluation__kind": kind, "evaluation__period_start": period.start}
    EvaluationScore.objects.filter(**in_period).delete()
    # Departments deactivated since the last computation lose their evaluation of this period.
    Evaluation.objects.filter(kind=kind, period_start=period.start).exclude(
        department_id__in=departments
    ).delete()
    EvaluationScore.objects.bulk_create(
        EvaluationScore(
            evaluation_id=evaluation.pk,
            kpi_code=s.code,
            value=s.value,
            target=s.target,
            weight=s.weight,
            direction=s.direction,
            unit=s.unit,
            met=s.met,
            points=s.points,
            sample_size=s.sample_size,
        )
        for evaluation in evaluations
        for s in scored_by_department[evaluation.department_id]
    )
    run.computed_at, run.as_of, run.departments = now, as_of, len(evaluations)
    run.save(update_fields=["computed_at", "as_of", "departments"])
    return evaluations


# == customer feedback ==============================================================================
def _answer(value: Any, field: str, low: int, high: int, errors: dict[str, list[str]]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[field] = [f"A whole number from {low} to {high}."]
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = [f"A whole number from {low} to {high}."]
        return None
    if not number.is_finite() or number != number.to_integral_value():
        errors[field] = [f"A whole number from {low} to {high}."]
        return None
    if not low <= number <= high:
        errors[field] = [f"Must be between {low} and {high}; got {number}."]
        return None
    return int(number)


@transaction.atomic
def feedback_record(
    *,
    case: Case,
    actor,
    survey_id: str,
    csat: Any = None,
    nps: Any = None,
    comment: str = "",
    channel: str = CustomerFeedback.Channel.OTHER,
    source: str = "",
    responded_at: datetime | None = None,
    at: datetime | None = None,
) -> tuple[CustomerFeedback, bool]:
    """Record a survey answer about a case. Returns (feedback, created).

    Idempotent per case and survey: the same survey id with the same answers returns the existing
    row (created False); the same survey id with different answers is a 409 `feedback_conflict`,
    because silently keeping either answer would hide a bug in the sender."""
    at = at or timezone.now()
    if actor is None or not actor.has_perm(policy.RECORD_FEEDBACK):
        raise PermissionDenied("You may not record customer feedback.", code="cannot_record_feedback")
    errors: dict[str, list[str]] = {}
    survey_id = (survey_id or "").strip()
    if not survey_id:
        errors["survey_id"] = ["A survey id is required."]
    elif len(survey_id) > 100:
        errors["survey_id"] = ["At most 100 characters."]
    csat = _answer(csat, "csat", 1, 5, errors)
    nps = _answer(nps, "nps", 0, 10, errors)
    if csat is None and nps is None and not errors.keys() & {"csat", "nps"}:
        errors["non_field_errors"] = ["Give a CSAT (1–5), an NPS answer (0–10) or both."]
    channel = channel or CustomerFeedback.Channel.OTHER
    if channel not in CustomerFeedback.Channel.values:
        errors["channel"] = [f"Unknown channel {channel!r}."]
    if len(source or "") > 50:
        errors["source"] = ["At most 50 characters."]
    responded_at = responded_at or at
    if timezone.is_naive(responded_at):
        errors["responded_at"] = ["Give a time zone."]
    elif responded_at > at + timedelta(minutes=5):
        errors["responded_at"] = ["The answer cannot lie in the future."]
    if errors:
        raise InvalidInput("Invalid feedback.", code="invalid", extra={"fields": errors})
    comment = (comment or "").strip()

    case = case_records.case_lock(case)
    existing = CustomerFeedback.objects.filter(case=case, survey_id=survey_id).first()
    if existing is None:
        try:
            with transaction.atomic():
                feedback = CustomerFeedback.objects.create(
                    case=case,
                    survey_id=survey_id,
                    csat=csat,
                    nps=nps,
                    comment=comment,
                    channel=channel,
                    source=source or "",
                    responded_at=responded_at,
                    created_by=actor if actor.is_authenticated else None,
                    created_at=at,
                )
        except IntegrityError:  # a twin committed between our look and our insert (SQLite: no lock)
            existing = CustomerFeedback.objects.filter(case=case, survey_id=survey_id).first()
            if existing is None:
                raise
        else:
            case_records.feedback_record(
                case,
                actor=actor,
                at=at,
                facts={
                    "feedback": feedback.pk,
                    "survey_id": survey_id,
                    "csat": csat,
                    "nps": nps,
                    "channel": channel,
                    "source": source or "",
                },
            )
            return feedback, True
    if (existing.csat, existing.nps, existing.comment) != (csat, nps, comment):
        raise StateConflict(
            f"Survey {survey_id} was already recorded for this case with other answers.",
            code="feedback_conflict",
            extra={"feedback": existing.pk},
        )
    return existing, False


# == inspections ====================================================================================
def _check_subject(case: Case, department: Department, level: str, scorecard: Scorecard) -> None:
    errors: dict[str, list[str]] = {}
    if level not in Level.values:
        errors["level"] = [f"Unknown level {level!r}; use one of {', '.join(Level.values)}."]
    if not scorecard.is_active:
        errors["scorecard"] = ["This scorecard is not active."]
    if errors:
        raise InvalidInput("Invalid inspection.", extra={"fields": errors})
    if case.status not in INSPECTABLE or case.resolved_at is None:
        raise StateConflict("Only a resolved or closed case can be inspected.", code="case_not_resolved")
    handled = Handoff.objects.filter(kpis.RECEIVED, case=case, to_department=department).exists()
    if not handled:
        raise _invalid("department", "This department did not handle the case.", "department_not_on_case")
    existing = Inspection.objects.filter(case=case, department=department, level=level).first()
    if existing is not None:
        raise StateConflict(
            "This case is already inspected for this department at this level.",
            code="inspection_exists",
            extra={"inspection": existing.pk},
        )


@transaction.atomic
def inspection_assign(
    *,
    case: Case,
    department: Department,
    level: str,
    scorecard: Scorecard,
    actor,
    inspector=None,
    at: datetime | None = None,
) -> Inspection:
    """Put a case on an inspector's list (or nobody's: then any permitted inspector may take it)."""
    at = at or timezone.now()
    if not policy.can_assign(actor, department.pk, level):
        raise PermissionDenied("You may not assign this inspection.", code="cannot_assign_inspection")
    case = case_records.case_lock(case)
    _check_subject(case, department, level, scorecard)
    if inspector is not None and not policy.can_inspect(inspector, department.pk, level):
        raise _invalid("inspector", "This user may not inspect at this level.", "cannot_inspect")
    inspection = Inspection(
        case=case,
        department=department,
        level=level,
        scorecard=scorecard,
        inspector=inspector,
        case_resolved_at=case.resolved_at,
        assigned_by=actor,
        assigned_at=at,
    )
    inspection.full_clean(validate_unique=False, validate_constraints=False)
    inspection.save(force_insert=True)
    return inspection


def _parse_score(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number.as_tuple().exponent < -2:
        return None
    return number


def _validated_scores(scorecard: Scorecard, scores: Mapping[str, Any]) -> list[tuple[Any, Decimal]]:
    """Every criterion scored, each within 0 … its maximum; otherwise a 400 naming each bad one."""
    criteria = list(scorecard.criteria.order_by("order", "pk"))
    if not criteria:
        raise InvalidInput("The scorecard has no criteria.", code="scorecard_without_criteria")
    if not isinstance(scores, Mapping):
        raise _invalid("scores", "Give the scores as {criterion code: score}.", "invalid_scores")
    errors: dict[str, list[str]] = {}
    known = {c.code for c in criteria}
    for key in scores:
        if str(key) not in known:
            errors[f"scores.{key}"] = [f"Unknown criterion {key!r} for scorecard {scorecard.code}."]
    out = []
    for criterion in criteria:
        field = f"scores.{criterion.code}"
        if criterion.code not in scores:
            errors[field] = ["A score is required."]
            continue
        value = _parse_score(scores[criterion.code])
        if value is None:
            errors[field] = ["A number with at most 2 decimals."]
        elif value < 0:
            errors[field] = ["A score cannot be negative."]
        elif value > criterion.max_score:
            errors[field] = [f"{value} is above this criterion's maximum of {criterion.max_score}."]
        else:
            out.append((criterion, value))
    if errors:
        raise InvalidInput("Invalid scores.", code="invalid_scores", extra={"fields": errors})
    return out


def inspection_score(scored: list[tuple[Any, Decimal]]) -> Decimal:
    """Σ weight × score / maximum over Σ weight, as 0–100."""
    total = sum((Decimal(c.weight) * value / Decimal(c.max_score) for c, value in scored), Decimal(0))
    weights = sum(Decimal(c.weight) for c, _ in scored)
    return (total * 100 / weights).quantize(CENT)


@transaction.atomic
def inspection_record(
    *,
    actor,
    scores: Mapping[str, Any],
    comment: str = "",
    inspection: Inspection | None = None,
    case: Case | None = None,
    department: Department | None = None,
    level: str | None = None,
    scorecard: Scorecard | None = None,
    at: datetime | None = None,
) -> Inspection:
    """Complete an inspection with a score per criterion: an assigned one (`inspection`), or a new
    one of (`case`, `department`, `level`, `scorecard`) created and completed at once. Everything is
    checked before anything is written, and it is one transaction: an error leaves nothing behind."""
    at = at or timezone.now()
    if inspection is not None:
        try:
            inspection = (
                Inspection.objects.select_for_update(no_key=True, of=("self",))
                .select_related("scorecard")
                .get(pk=inspection.pk)
            )
        except Inspection.DoesNotExist as exc:
            raise NotFound("No such inspection.") from exc
        policy.require_can_inspect(actor, inspection.department_id, inspection.level)
        if inspection.status != Inspection.Status.ASSIGNED:
            raise StateConflict("This inspection is completed already.", code="inspection_completed")
        if (
            inspection.inspector_id not in (None, actor.pk)
            and not dept_policy.acts_for_all(actor)
            and not actor.has_perm(policy.SAMPLE_INSPECTIONS)
        ):
            raise PermissionDenied("This inspection is assigned to someone else.", code="not_your_inspection")
    else:
        if case is None or department is None or level is None or scorecard is None:
            raise InvalidInput("Name the case, department, level and scorecard.", code="invalid")
        if level in Level.values:
            policy.require_can_inspect(actor, department.pk, level)
        case = case_records.case_lock(case)
        _check_subject(case, department, level, scorecard)
        inspection = Inspection(
            case=case,
            department=department,
            level=level,
            scorecard=scorecard,
            case_resolved_at=case.resolved_at,
            assigned_by=actor,
            assigned_at=at,
        )
    scored = _validated_scores(inspection.scorecard, scores)
    inspection.status = Inspection.Status.COMPLETED
    inspection.score = inspection_score(scored)
    inspection.level_weight = inspection.scorecard.level_weight(inspection.level)
    inspection.completed_at = at
    inspection.comment = (comment or "").strip()
    if inspection.inspector_id is None:
        inspection.inspector = actor
    if inspection.pk is None:
        inspection.save(force_insert=True)
    else:
        inspection.save(
            update_fields=["status", "score", "level_weight", "completed_at", "comment", "inspector"]
        )
    InspectionScore.objects.bulk_create(
        InspectionScore(
            inspection=inspection, criterion=c, score=value, max_score=c.max_score, weight=c.weight
        )
        for c, value in scored
    )
    return inspection


def _inspectors(department_ids: set[int], level: str) -> dict[int | None, list[int]]:
    """Candidate inspectors by department (key None: the quality office, for every department)."""
    if level == Level.QUALITY_OFFICE:
        # Permissions come from groups and user rows (ModelBackend); the other backends grant none.
        users = (
            get_user_model()
            .objects.with_perm(
                policy.INSPECT_AS_QUALITY_OFFICE,
                include_superusers=False,
                backend="django.contrib.auth.backends.ModelBackend",
            )
            .filter(is_active=True)
        )
        with_role = sorted(
            users.filter(memberships__role=Membership.Role.INSPECTOR).distinct().values_list("pk", flat=True)
        )
        return {None: with_role or sorted(users.values_list("pk", flat=True))}
    rows = Membership.objects.filter(
        department_id__in=department_ids,
        role__in=[Membership.Role.INSPECTOR, Membership.Role.LEAD],
        user__is_active=True,
    ).values_list("department_id", "role", "user_id")
    inspectors: dict[int, list[int]] = defaultdict(list)
    leads: dict[int, list[int]] = defaultdict(list)
    for department_id, role, user_id in rows:
        (inspectors if role == Membership.Role.INSPECTOR else leads)[department_id].append(user_id)
    return {d: sorted(inspectors.get(d) or leads.get(d) or []) for d in department_ids}


def sample_seed(kind: str, start: date, department_id: int) -> str:
    return f"baton-inspection-sample:{kind}:{start.isoformat()}:{department_id}"


@transaction.atomic
def inspection_sample(
    *,
    kind: str,
    start: date,
    per_department: int,
    level: str,
    scorecard: Scorecard,
    actor,
    at: datetime | None = None,
) -> list[Inspection]:
    """Pick up to `per_department` cases each department resolved in the period and assign them to
    inspectors at `level`. Reproducible: the candidates come sorted from one query and a generator
    seeded with (period, department) chooses among them, so the same period always gives the same
    sample, and inspections that exist already are kept rather than duplicated."""
    at = at or timezone.now()
    if actor is None or not actor.has_perm(policy.SAMPLE_INSPECTIONS):
        raise PermissionDenied("You may not sample cases for inspection.", code="cannot_sample")
    errors = {}
    if level not in Level.values:
        errors["level"] = [f"Unknown level {level!r}."]
    if (
        isinstance(per_department, bool)
        or not isinstance(per_department, int)
        or not 1 <= per_department <= 100
    ):
        errors["per_department"] = ["A whole number from 1 to 100."]
    if not scorecard.is_active:
        errors["scorecard"] = ["This scorecard is not active."]
    if errors:
        raise InvalidInput("Invalid sampling.", extra={"fields": errors})
    period = period_starting(kind, start)
    resolved = CaseEvent.objects.filter(
        kind=CaseEvent.Kind.RESOLVED,
        created_at__gte=period.starts_at,
        created_at__lt=period.ends_at,
        department_id__isnull=False,
        case__status__in=INSPECTABLE,
    ).values_list("department_id", "case_id", "created_at")
    candidates: dict[int, dict[int, datetime]] = defaultdict(dict)
    for department_id, case_id, resolved_at in resolved:
        # Resolved twice in the period: the inspection is of the later resolution.
        known = candidates[department_id].get(case_id)
        candidates[department_id][case_id] = max(known, resolved_at) if known else resolved_at
    chosen: list[tuple[int, int]] = []
    for department_id in sorted(candidates):
        ids = sorted(candidates[department_id])
        rng = random.Random(sample_seed(kind, period.start, department_id))
        chosen += [
            (department_id, case_id) for case_id in sorted(rng.sample(ids, min(per_department, len(ids))))
        ]
    if not chosen:
        return []
    inspectors = _inspectors(set(candidates), level)
    rows = []
    for index, (department_id, case_id) in enumerate(chosen):
        pool = inspectors.get(None if level == Level.QUALITY_OFFICE else department_id) or []
        rows.append(
            Inspection(
                case_id=case_id,
                department_id=department_id,
                level=level,
                scorecard=scorecard,
                inspector_id=pool[index % len(pool)] if pool else None,
                case_resolved_at=candidates[department_id][case_id],
                period_kind=kind,
                period_start=period.start,
                assigned_by=actor,
                assigned_at=at,
            )
        )
    # Existing (case, department, level) rows win: a rerun, or a twin run, adds nothing.
    Inspection.objects.bulk_create(rows, ignore_conflicts=True)
    wanted = {(d, c) for d, c in chosen}
    found = Inspection.objects.filter(
        level=level,
        department_id__in={d for d, _ in chosen},
        case_id__in={c for _, c in chosen},
    ).select_related("case", "department", "inspector")
    return sorted(
        (i for i in found if (i.department_id, i.case_id) in wanted),
        key=lambda i: (i.department_id, i.case_id),
    )
