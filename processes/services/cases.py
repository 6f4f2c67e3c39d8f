"""Case-level changes: comment, resolve, the compensation decision, close, reopen, cancel, extend the
regulatory deadline, and the automatic close of resolved cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from core.errors import InvalidInput, StateConflict
from core.errors import field_error as _invalid
from processes import policy, rules, writes
from processes.customers import messages as customer_messages
from processes.models import (
    Case,
    CaseEvent,
    CustomerMessage,
    Handoff,
    Notification,
)
from processes.services.base import (
    _adopt,
    _Change,
    _complete,
    _end_pause,
    _lock_case,
    _lock_open,
    _mark_accepted,
    _now,
    _request_handoff,
    _require_acts_for,
    _require_open_handoff,
    _require_works_on,
)

# The state changes of this module (re-exported by processes.services).
__all__ = [
    "case_auto_close_batch",
    "case_cancel",
    "case_close",
    "case_comment",
    "case_extend_deadline",
    "case_reopen",
    "case_resolve",
    "compensation_decide",
]

User = AbstractBaseUser
Kind = CaseEvent.Kind
NoticeKind = Notification.Kind


# -- case-level changes ---------------------------------------------------------------------------
@transaction.atomic
def case_comment(*, case: Case | str, actor: User, text: str, at: datetime | None = None) -> CaseEvent:
    at = _now(at)
    if not (text or "").strip():
        raise _invalid("text", "A comment cannot be empty.", "comment_required")
    locked = _lock_case(case, actor)
    _require_works_on(actor, locked, "comment on")
    change = _Change(locked, at=at, actor=actor, stamp=locked._stamp)
    change.touch()
    event = change.event(Kind.COMMENT, department_id=locked.current_department_id, text=text.strip())
    if event.department_id is not None:
        event.department = change.department(event.department_id)
    change.flush()
    return event


def _parse_amount(amount: Any) -> Decimal | None:
    if amount in (None, ""):
        return None
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError) as exc:
        raise _invalid("compensation_amount", "Not a number.", "invalid_amount") from exc
    if not value.is_finite():
        raise _invalid("compensation_amount", "Not a number.", "invalid_amount")
    if value < 0:
        raise _invalid("compensation_amount", "A compensation cannot be negative.", "negative_amount")
    if value.as_tuple().exponent < -2 or value >= Decimal("1e10"):
        raise _invalid(
            "compensation_amount", "At most 2 decimals and below 10 000 000 000.", "invalid_amount"
        )
    # In cents, so that the timeline shows what is stored ("800.00", never "800" or "8E+2").
    return value.quantize(Decimal("0.01"))


def _apply_resolution(change: _Change, *, from_handoff: Handoff, resolver_id: int | None = None) -> None:
    """`resolver_id` is who proposed the resolution when someone else (the compensation approver) is
    the actor completing it: the resolution stays theirs."""
    case = change.case
    case.status = Case.Status.RESOLVED
    case.resolved_at = change.at
    case.resolved_by_id = resolver_id if resolver_id is not None else getattr(change.actor, "pk", None)
    stage = change.definition.stage(case.resolved_stage_id)
    change.touch(
        "status",
        "resolved_at",
        "resolved_by",
        "resolution",
        "recovery_measure",
        "compensation_amount",
        "compensation_approval",
        "resolved_stage",
    )
    change.event(
        Kind.RESOLVED,
        department_id=stage.department_id,
        resolution=case.resolution,
        recovery_measure=case.recovery_measure,
        compensation_amount=str(case.compensation_amount) if case.compensation_amount is not None else None,
    )
    callback = change.definition.callback(stage.pk)
    if callback is not None:
        _request_handoff(
            change,
            to_department=callback.department,
            to_stage=callback,
            from_handoff=from_handoff,
            note="",
        )
    # The customer hears of the resolution now and is asked about it a day later (one per resolution:
    # a reopened and again resolved case asks again).
    key = str(case.reopen_count)
    customer_messages.tell(change, CustomerMessage.Kind.RESOLUTION, key=key)
    customer_messages.tell(change, CustomerMessage.Kind.SURVEY, key=key, delay=customer_messages.SURVEY_DELAY)


@transaction.atomic
def case_resolve(
    *,
    case: Case,
    actor: User,
    resolution: str,
    recovery_measure: str,
    compensation_amount: Any = None,
    at: datetime | None = None,
) -> Case:
    """Resolve with a service-recovery measure; a compensation above the process's threshold goes to
    the approving department first and the case is resolved when it approves."""
    at = _now(at)
    errors: dict[str, list[str]] = {}
    if not (resolution or "").strip():
        errors["resolution"] = ["Describe the resolution."]
    if recovery_measure not in Case.Recovery.values:
        errors["recovery_measure"] = [f"Unknown recovery measure {recovery_measure!r}."]
    amount = _parse_amount(compensation_amount)
    if recovery_measure == Case.Recovery.COMPENSATION and not amount:
        errors["compensation_amount"] = ["A compensation needs an amount above zero."]
    if errors:
        raise InvalidInput("Invalid resolution.", extra={"fields": errors})
    change, handoff = _lock_open(case, actor, at)
    handoff = _require_open_handoff(handoff, actor, change.case, "resolve")
    case = change.case
    _require_acts_for(actor, handoff, "resolve")
    rules.refuse(rules.can_resolve(case, handoff))
    _complete(change, handoff)
    case.resolution = resolution.strip()
    case.recovery_measure = recovery_measure
    case.compensation_amount = amount
    case.resolved_stage = handoff.to_stage
    process = case.process
    needs_approval = (
        recovery_measure == Case.Recovery.COMPENSATION
        and process.compensation_approver_id is not None
        and amount > process.compensation_threshold
    )
    if needs_approval:
        approver = change.department(process.compensation_approver_id)
        case.compensation_approval = Case.Approval.PENDING
        change.touch(
            "resolution", "recovery_measure", "compensation_amount", "compensation_approval", "resolved_stage"
        )
        change.event(
            Kind.COMPENSATION_REQUESTED,
            department_id=handoff.to_department_id,
            amount=str(amount),
            threshold=str(process.compensation_threshold),
            approver=approver.code,
        )
        _request_handoff(
            change,
            to_department=approver,
            to_stage=None,
            from_handoff=handoff,
            note=f"compensation {amount}",
            kind=Handoff.Kind.APPROVAL,
        )
        change.flush()
        return case
    case.compensation_approval = Case.Approval.NOT_NEEDED
    _apply_resolution(change, from_handoff=handoff)
    change.flush()
    return case


@transaction.atomic
def compensation_decide(
    *, case: Case | str, actor: User, approve: bool, note: str = "", at: datetime | None = None
) -> Case:
    at = _now(at)
    if not approve and not (note or "").strip():
        raise _invalid("note", "Say why the compensation is rejected.", "reason_required")
    change, handoff = _lock_open(case, actor, at)
    case = change.case
    # The approving department's right first, then what the case's state makes of the request.
    approver_id = case.process.compensation_approver_id
    member = handoff._member if handoff is not None and handoff.to_department_id == approver_id else None
    policy.require_acts_for(actor, approver_id, action="approve", member=member)
    rules.refuse(rules.can_decide_compensation(handoff))
    _require_acts_for(actor, handoff, "approve")
    fields: set[str] = set()
    if handoff.status == Handoff.Status.PENDING:
        fields |= _mark_accepted(change, handoff)
    _complete(change, handoff, fields)
    if approve:
        case.compensation_approval = Case.Approval.APPROVED
        change.event(
            Kind.COMPENSATION_APPROVED,
            department_id=handoff.to_department_id,
            amount=str(case.compensation_amount),
            note=note,
        )
        _apply_resolution(change, from_handoff=handoff, resolver_id=handoff.requested_by_id)
        change.flush()
        return case
    case.compensation_approval = Case.Approval.REJECTED
    stage = change.definition.stage(case.resolved_stage_id)
    case.resolved_stage = None
    change.touch("compensation_approval", "resolved_stage")
    change.event(
        Kind.COMPENSATION_REJECTED,
        department_id=handoff.to_department_id,
        amount=str(case.compensation_amount),
        note=note,
    )
    _request_handoff(change, to_department=stage.department, to_stage=stage, from_handoff=handoff, note=note)
    change.flush()
    return case


@transaction.atomic
def case_close(
    *, case: Case | str, actor: User | None, at: datetime | None = None, system: bool = False
) -> Case:
    """Close a resolved case (the call-back department completes its handoff); `system` is auto-close."""
    change, handoff = _lock_open(case, actor, _now(at))
    case = change.case
    if not system:
        if handoff is not None:
            _require_acts_for(actor, handoff, "close")
        else:
            policy.require_acts_for(actor, case.current_department_id, action="close")
    rules.refuse(rules.can_close(case, handoff, system=system))
    if handoff is not None:
        fields: set[str] = set()
        if handoff.status == Handoff.Status.PENDING:
            fields |= _mark_accepted(change, handoff, actor=None)
        _complete(change, handoff, fields)
    case.status = Case.Status.CLOSED
    case.closed_at = change.at
    change.touch("status", "closed_at")
    change.event(Kind.CLOSED, department_id=case.current_department_id, automatic=system)
    change.flush()
    return case


def _cancel_open(change: _Change, pending: Handoff | None, reason: str) -> None:
    if pending is None:
        return
    fields = {"status"}
    if pending.paused_at is not None:
        _end_pause(change, pending, fields=fields)
    pending.status = Handoff.Status.CANCELLED
    if change.open_handoff is pending:
        change.open_handoff = None
    writes.update(pending, sorted(fields))
    change.event(
        Kind.HANDOFF_CANCELLED, department_id=pending.to_department_id, handoff=pending, reason=reason
    )


@transaction.atomic
def case_reopen(*, case: Case | str, actor: User, reason: str, at: datetime | None = None) -> Case:
    """Reopen within the process's window; the case goes back to the department that resolved it."""
    at = _now(at)
    if not (reason or "").strip():
        raise _invalid("reason", "Say why the case is reopened.", "reason_required")
    # A resolved or closed case: at most a call-back is open, so the case is locked first.
    case = _lock_case(case, actor)
    change = _Change(case, at=at, actor=actor, stamp=case._stamp)
    pending = Handoff.objects.filter(case_id=case.pk, status__in=Handoff.OPEN_STATUSES).first()
    if pending is not None:
        _adopt(change, pending)
    _require_works_on(actor, case, "reopen")
    rules.refuse(rules.can_reopen(case, at))
    _cancel_open(change, pending, "reopened")
    stage = change.definition.stage(case.resolved_stage_id or case.current_stage_id)
    origin = Handoff(
        to_department=change.department(case.current_department_id),
        to_stage=change.definition.stage(case.current_stage_id) if case.current_stage_id else None,
    )
    case.status = Case.Status.IN_PROGRESS
    case.reopen_count += 1
    case.resolved_at = None
    case.closed_at = None
    change.touch("status", "reopen_count", "resolved_at", "closed_at")
    change.event(
        Kind.REOPENED,
        department_id=stage.department_id,
        reason=reason.strip(),
        reopen_count=case.reopen_count,
    )
    handoff = _request_handoff(
        change, to_department=stage.department, to_stage=stage, from_handoff=origin, note=reason.strip()
    )
    change.notify(
        NoticeKind.REOPENED, f"reopened:{case.pk}:{case.reopen_count}", handoff, reason=reason.strip()
    )
    change.flush()
    return case


@transaction.atomic
def case_cancel(*, case: Case | str, actor: User, reason: str, at: datetime | None = None) -> Case:
    at = _now(at)
    if not (reason or "").strip():
        raise _invalid("reason", "Say why the case is cancelled.", "reason_required")
    change, pending = _lock_open(case, actor, at)
    case = change.case
    member = (
        pending._member
        if pending is not None and pending.to_department_id == case.current_department_id
        else None
    )
    policy.require_acts_for(actor, case.current_department_id, action="cancel", member=member)
    rules.refuse(rules.can_cancel(case))
    _cancel_open(change, pending, "cancelled")
    case.status = Case.Status.CANCELLED
    case.cancelled_at = at
    change.touch("status", "cancelled_at")
    change.event(Kind.CANCELLED, department_id=case.current_department_id, reason=reason.strip())
    change.flush()
    return case


@transaction.atomic
def case_extend_deadline(
    *,
    case: Case | str,
    actor: User,
    reason: str,
    reason_category: str = customer_messages.ExtensionReason.INVESTIGATION,
    at: datetime | None = None,
) -> Case:
    """Extend the regulatory deadline: first by the current department's lead, then (particularly
    complicated cases) by the process's designated approving department. The customer is sent a
    message with the new date and the reason's category (the "customer notified" event follows when
    it has left; processes/customers/messages.py)."""
    at = _now(at)
    if not (reason or "").strip():
        raise _invalid("reason", "An extension needs a reason.", "reason_required")
    if reason_category not in customer_messages.ExtensionReason.values:
        raise _invalid("reason_category", f"Unknown reason category {reason_category!r}.", "invalid_choice")
    change, _open_handoff = _lock_open(case, actor, at)
    case = change.case
    process = case.process
    # Who may extend comes first (it depends only on how often the deadline was extended), so the
    # state checks answer only those who may ask.
    rules.refuse(rules.may_extend_deadline(actor, case))
    rules.refuse(rules.can_extend_deadline(case))
    first = case.regulatory_extensions == 0
    days = process.first_extension_days if first else process.second_extension_days
    before = case.regulatory_deadline
    case.regulatory_deadline = before + timedelta(days=days)
    case.regulatory_extensions += 1
    change.touch("regulatory_deadline", "regulatory_extensions")
    change.event(
        Kind.DEADLINE_EXTENDED,
        department_id=case.current_department_id,
        previous=before.isoformat(),
        deadline=case.regulatory_deadline.isoformat(),
        days=days,
        extension=case.regulatory_extensions,
        approver=actor.get_username(),
        reason=reason.strip(),
        reason_category=reason_category,
    )
    customer_messages.tell(
        change,
        CustomerMessage.Kind.EXTENSION,
        key=str(case.regulatory_extensions),
        deadline=case.regulatory_deadline.isoformat(),
        reason_category=reason_category,
    )
    change.flush()
    return case


def case_auto_close_batch(*, now: datetime | None = None, limit: int = 200) -> tuple[int, bool]:
    """Close resolved cases older than the configured days, in a bounded batch.

    The selection is one query; each case then goes through `case_close` because closing completes
    its call-back handoff and writes events under the case lock (one place for the rule). The batch
    bound and the re-queue keep a backlog from turning into one long transaction.
    """
    now = _now(now)
    cutoff = now - timedelta(days=settings.BATON_AUTO_CLOSE_DAYS)
    ids = list(
        Case.objects.filter(status=Case.Status.RESOLVED, resolved_at__lte=cutoff)
        .order_by("resolved_at")
        .values_list("pk", flat=True)[:limit]
    )
    closed = 0
    for case_id in ids:
        try:
            case_close(case=Case(pk=case_id), actor=None, at=now, system=True)
            closed += 1
        except StateConflict:  # reopened or closed meanwhile
            continue
    return closed, len(ids) >= limit
