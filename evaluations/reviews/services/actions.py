"""Improvement actions: decided in a review, moved along open -> in progress -> done -> checked, each
change one row of the action's append-only history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput, NotFound, PermissionDenied, StateConflict
from departments.models import Department
from evaluations import kpis
from evaluations.models import EvaluationScore, Kpi
from evaluations.reviews import policy
from evaluations.reviews.models import (
    ImprovementAction,
    ImprovementActionEvent,
    ImprovementReview,
)
from evaluations.reviews.services.common import (
    CENT,
    MAX_TEXT,
    STEP,
    TRANSITIONS,
    VERDICTS,
    EventKind,
    Status,
    _invalid,
    _local_today,
)


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
