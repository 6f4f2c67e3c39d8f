"""Every state change of a case or a handoff: one function each, used by the admin, the API,
the tasks and the commands alike.

Shape of each (CONVENTIONS §2): one transaction; the case row locked first (every change to a case
and its handoffs serialises on that one lock, so there is one lock order and no deadlock); the source
state checked (StateConflict → 409); the permission checked through the department policy
(PermissionDenied → 403); `save(update_fields=...)`; the timeline event written; side effects after
commit. `at` lets the demo history and tests replay the past; it defaults to now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from departments.errors import InvalidInput, NotFound, PermissionDenied, StateConflict
from departments.models import Department
from processes import notifications, policy
from processes.clock import DUE_SOON_FRACTION, ScheduleCache
from processes.models import (
    Case,
    CaseEvent,
    Handoff,
    PauseSegment,
    Priority,
    ReferenceCounter,
    ServiceProcess,
    Stage,
    StageTarget,
    Transition,
)

User = AbstractBaseUser
Kind = CaseEvent.Kind


# -- helpers --------------------------------------------------------------------------------------
def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _invalid(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, code=code, extra={"fields": {field: [message]}})


def _event(
    case: Case,
    kind: str,
    *,
    at: datetime,
    actor: User | None = None,
    department_id: int | None = None,
    handoff: Handoff | None = None,
    **payload: Any,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        handoff=handoff,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        department_id=department_id,
        created_at=at,
        payload=payload,
    )


def _lock_case(case_id: int) -> Case:
    try:
        # NO KEY UPDATE: services never change a case's key, and this lock then does not block the
        # KEY SHARE locks that inserting events (foreign keys to the case) takes in the SLA sweep.
        return (
            Case.objects.select_for_update(of=("self",), no_key=True)
            .select_related("process")
            .get(pk=case_id)
        )
    except Case.DoesNotExist as exc:
        raise NotFound("No such case.") from exc


def _lock_handoff(handoff_id: int) -> tuple[Case, Handoff]:
    case_id = Handoff.objects.filter(pk=handoff_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotFound("No such handoff.")
    case = _lock_case(case_id)
    handoff = Handoff.objects.select_related("to_department", "to_stage").get(pk=handoff_id)
    return case, handoff


def _open_handoff(case: Case) -> Handoff | None:
    return (
        Handoff.objects.select_related("to_department", "to_stage")
        .filter(case=case, status__in=Handoff.OPEN_STATUSES)
        .first()
    )


def _require_open_handoff(case: Case) -> Handoff:
    handoff = _open_handoff(case)
    if handoff is None:
        raise StateConflict("The case has no open handoff.", code="no_open_handoff")
    return handoff


def _touch(case: Case, at: datetime, *fields: str) -> None:
    case.updated_at = max(at, case.updated_at) if case.updated_at else at
    case.save(update_fields=[*fields, "updated_at"])


def _business_seconds(department: Department, start: datetime, end: datetime, cache: ScheduleCache) -> int:
    return max(0, int(cache.get(department.calendar_id).between(start, end).total_seconds()))


def _targets(stage: Stage | None, priority: str) -> tuple[int, int]:
    if stage is None:  # compensation approval
        return (
            settings.BATON_APPROVAL_RESPONSE_MINUTES * 60,
            settings.BATON_APPROVAL_RESOLUTION_MINUTES * 60,
        )
    target = StageTarget.objects.filter(stage=stage, priority=priority).first()
    if target is None:
        raise InvalidInput(
            f"Stage {stage.code} has no target for priority {priority}; the quality office must set one.",
            code="stage_without_target",
        )
    return target.response_minutes * 60, target.resolution_minutes * 60


def _request_handoff(
    case: Case,
    *,
    to_department: Department,
    to_stage: Stage | None,
    from_handoff: Handoff | None,
    actor: User | None,
    at: datetime,
    note: str = "",
    kind: str = Handoff.Kind.ROUTING,
    cache: ScheduleCache | None = None,
) -> Handoff:
    cache = cache or ScheduleCache()
    response_s, resolution_s = _targets(to_stage, case.priority)
    schedule = cache.get(to_department.calendar_id)
    handoff = Handoff.objects.create(
        case=case,
        kind=kind,
        from_department=from_handoff.to_department if from_handoff else None,
        from_stage=from_handoff.to_stage if from_handoff else None,
        to_department=to_department,
        to_stage=to_stage,
        priority=case.priority,
        note=note,
        requested_by=actor if actor is not None and actor.is_authenticated else None,
        requested_at=at,
        response_target_seconds=response_s,
        resolution_target_seconds=resolution_s,
        response_due_at=schedule.add(at, timedelta(seconds=response_s)),
        resolution_due_at=schedule.add(at, timedelta(seconds=resolution_s)),
        response_warn_at=schedule.add(at, timedelta(seconds=response_s * DUE_SOON_FRACTION)),
        resolution_warn_at=schedule.add(at, timedelta(seconds=resolution_s * DUE_SOON_FRACTION)),
    )
    if to_stage is not None:
        case.current_stage = to_stage
    case.current_department = to_department
    _touch(case, at, "current_stage", "current_department")
    _event(
        case,
        Kind.HANDOFF_REQUESTED,
        at=at,
        actor=actor,
        department_id=handoff.from_department_id,
        handoff=handoff,
        to_department=to_department.code,
        to_stage=to_stage.code if to_stage else None,
        handoff_kind=kind,
        note=note,
        response_due_at=handoff.response_due_at.isoformat(),
        resolution_due_at=handoff.resolution_due_at.isoformat(),
    )
    notifications.notify_handoff_requested(handoff)
    return handoff


def _finish(handoff: Handoff, *, status: str, actor: User | None, at: datetime, cache: ScheduleCache) -> None:
    """Close an open handoff as completed or returned, storing its business time to complete."""
    if handoff.paused_at is not None:
        _end_pause(handoff, actor=actor, at=at, cache=cache)
    handoff.status = status
    fields = ["status"]
    if status == Handoff.Status.COMPLETED:
        handoff.completed_by, handoff.completed_at = actor, at
        elapsed = _business_seconds(handoff.to_department, handoff.requested_at, at, cache)
        handoff.seconds_to_complete = max(0, elapsed - handoff.paused_seconds)
        fields += ["completed_by", "completed_at", "seconds_to_complete"]
    if handoff.resolution_breached_at is None and at > handoff.resolution_due_at:
        # Completed late before a sweep saw it: the breach happened at the due time all the same.
        handoff.resolution_breached_at = handoff.resolution_due_at
        fields.append("resolution_breached_at")
    handoff.save(update_fields=fields)


def _complete(
    case: Case, handoff: Handoff, *, actor: User | None, at: datetime, cache: ScheduleCache
) -> None:
    """Complete the open handoff and write its event, with the business time it took."""
    _finish(handoff, status=Handoff.Status.COMPLETED, actor=actor, at=at, cache=cache)
    _event(
        case,
        Kind.HANDOFF_COMPLETED,
        at=at,
        actor=actor,
        department_id=handoff.to_department_id,
        handoff=handoff,
        business_seconds=handoff.seconds_to_complete,
        within_target=handoff.seconds_to_complete <= handoff.resolution_target_seconds,
    )


def _mark_accepted(
    handoff: Handoff, case: Case, *, actor: User | None, at: datetime, cache: ScheduleCache
) -> None:
    handoff.status = Handoff.Status.ACCEPTED
    handoff.accepted_by, handoff.accepted_at = actor, at
    handoff.seconds_to_accept = _business_seconds(handoff.to_department, handoff.requested_at, at, cache)
    if handoff.assignee_id is None and actor is not None:
        handoff.assignee = actor
    if handoff.response_breached_at is None and at > handoff.response_due_at:
        handoff.response_breached_at = handoff.response_due_at
    handoff.save(
        update_fields=[
            "status",
            "accepted_by",
            "accepted_at",
            "seconds_to_accept",
            "assignee",
            "response_breached_at",
        ]
    )
    if case.status == Case.Status.OPEN:
        case.status = Case.Status.IN_PROGRESS
        _touch(case, at, "status")
    _event(
        case,
        Kind.HANDOFF_ACCEPTED,
        at=at,
        actor=actor,
        department_id=handoff.to_department_id,
        handoff=handoff,
        business_seconds=handoff.seconds_to_accept,
        within_target=handoff.seconds_to_accept <= handoff.response_target_seconds,
    )


def _end_pause(handoff: Handoff, *, actor: User | None, at: datetime, cache: ScheduleCache) -> int:
    segment = PauseSegment.objects.get(handoff=handoff, ended_at=None)
    seconds = _business_seconds(handoff.to_department, segment.started_at, at, cache)
    segment.ended_at, segment.ended_by, segment.business_seconds = at, actor, seconds
    segment.save(update_fields=["ended_at", "ended_by", "business_seconds"])
    handoff.paused_at = None
    handoff.paused_seconds += seconds
    schedule = cache.get(handoff.to_department.calendar_id)
    # The resolution clock excludes paused time: due = requested + target + everything paused so far.
    handoff.resolution_due_at = schedule.add(
        handoff.requested_at, timedelta(seconds=handoff.resolution_target_seconds + handoff.paused_seconds)
    )
    handoff.resolution_warn_at = schedule.add(
        handoff.requested_at,
        timedelta(seconds=handoff.resolution_target_seconds * DUE_SOON_FRACTION + handoff.paused_seconds),
    )
    handoff.save(update_fields=["paused_at", "paused_seconds", "resolution_due_at", "resolution_warn_at"])
    return seconds


# -- intake ---------------------------------------------------------------------------------------
def _next_reference(process: ServiceProcess, at: datetime) -> str:
    period = timezone.localtime(at).strftime("%Y%m")
    counter, _ = ReferenceCounter.objects.get_or_create(prefix=process.reference_prefix, period=period)
    # The row lock taken by this UPDATE is held until commit: concurrent openings queue here.
    ReferenceCounter.objects.filter(pk=counter.pk).update(value=F("value") + 1)
    value = ReferenceCounter.objects.filter(pk=counter.pk).values_list("value", flat=True).get()
    return f"{process.reference_prefix}-{period}-{value:06d}"


def _existing_intake(source: str, external_id: str) -> Case | None:
    if not external_id:
        return None
    # The partial unique index's own condition, spelled out: SQLite uses a partial index only when
    # the query repeats its WHERE term, and otherwise scanned every case (11 ms at 37,000 cases).
    return Case.objects.filter(source=source, external_id=external_id).exclude(external_id="").first()


@transaction.atomic
def case_open(
    *,
    process: ServiceProcess,
    title: str,
    channel: str,
    actor: User,
    priority: str = Priority.NORMAL,
    description: str = "",
    customer_id: str = "",
    customer_name: str = "",
    customer_phone: str = "",
    source: str = "",
    external_id: str = "",
    note: str = "",
    at: datetime | None = None,
) -> tuple[Case, bool]:
    """Open a case with its intake handoff. Returns (case, created); the same source + external_id
    returns the existing case, also when two requests race."""
    at = _now(at)
    if not actor.has_perm("processes.add_case"):
        raise PermissionDenied("You may not open cases.", code="cannot_open_cases")
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = ["A title is required."]
    if channel not in Case.Channel.values:
        errors["channel"] = [f"Unknown channel {channel!r}."]
    if priority not in Priority.values:
        errors["priority"] = [f"Unknown priority {priority!r}."]
    if external_id and not source:
        errors["source"] = ["A source is required with an external id."]
    if not process.is_active:
        errors["process"] = ["This process is not active."]
    if errors:
        raise InvalidInput("Invalid case.", extra={"fields": errors})
    existing = _existing_intake(source, external_id)
    if existing is not None:
        return existing, False
    initial = Stage.objects.select_related("department").filter(process=process, is_initial=True).first()
    if initial is None:
        raise InvalidInput(
            f"Process {process.code} has no initial stage.", code="process_without_initial_stage"
        )

    reference = _next_reference(process, at)
    # Under the counter lock a racing twin has committed by now: look again before inserting.
    existing = _existing_intake(source, external_id)
    if existing is not None:
        return existing, False
    cache = ScheduleCache()
    schedule = cache.get(initial.department.calendar_id)
    regulatory = None
    if process.regulatory_days:
        regulatory = timezone.localtime(at).date() + timedelta(days=process.regulatory_days)
    try:
        with transaction.atomic():
            case = Case.objects.create(
                reference=reference,
                process=process,
                title=title.strip(),
                description=description,
                customer_id=customer_id,
                customer_name=customer_name,
                customer_phone=customer_phone,
                channel=channel,
                priority=priority,
                source=source,
                external_id=external_id,
                due_at=schedule.add(at, timedelta(hours=process.e2e_hours(priority))),
                regulatory_deadline=regulatory,
                created_by=actor,
                created_at=at,
                updated_at=at,
            )
    except IntegrityError:
        existing = _existing_intake(source, external_id)
        if existing is None:
            raise
        return existing, False
    _event(
        case,
        Kind.CREATED,
        at=at,
        actor=actor,
        department_id=initial.department_id,
        process=process.code,
        channel=channel,
        priority=priority,
        source=source,
        external_id=external_id,
    )
    _request_handoff(
        case,
        to_department=initial.department,
        to_stage=initial,
        from_handoff=None,
        actor=actor,
        at=at,
        note=note,
        cache=cache,
    )
    return case, True


# -- handoff moves --------------------------------------------------------------------------------
@transaction.atomic
def handoff_accept(*, handoff: Handoff, actor: User, at: datetime | None = None) -> Handoff:
    at = _now(at)
    case, handoff = _lock_handoff(handoff.pk)
    policy.require_acts_for(actor, handoff.to_department_id, action="accept")
    if handoff.status != Handoff.Status.PENDING:
        raise StateConflict("Only a pending handoff can be accepted.", code="handoff_not_pending")
    _mark_accepted(handoff, case, actor=actor, at=at, cache=ScheduleCache())
    return handoff


@transaction.atomic
def handoff_return(*, handoff: Handoff, actor: User, reason: str, at: datetime | None = None) -> Handoff:
    """Send a handoff back to the department that sent it: a bounce, charged to the returning side."""
    at = _now(at)
    if not (reason or "").strip():
        raise _invalid("reason", "A reason is required to return a handoff.", "reason_required")
    case, handoff = _lock_handoff(handoff.pk)
    policy.require_acts_for(actor, handoff.to_department_id, action="return")
    if not handoff.is_open:
        raise StateConflict("Only an open handoff can be returned.", code="handoff_not_open")
    if handoff.from_department_id is None:
        raise StateConflict("The intake handoff has no sender to return to.", code="nothing_to_return_to")
    if handoff.kind != Handoff.Kind.ROUTING:
        raise StateConflict("A compensation approval is decided, not returned.", code="handoff_is_approval")
    if case.status != Case.Status.IN_PROGRESS and case.status != Case.Status.OPEN:
        raise StateConflict(
            "The case is resolved: reopen it instead of returning the call-back.", code="case_not_open"
        )
    cache = ScheduleCache()
    if (
        handoff.status == Handoff.Status.PENDING
        and handoff.response_breached_at is None
        and at > handoff.response_due_at
    ):
        # Returned without ever being accepted, after the golden response time: that response breached.
        handoff.response_breached_at = handoff.response_due_at
    _finish(handoff, status=Handoff.Status.RETURNED, actor=actor, at=at, cache=cache)
    handoff.returned_by, handoff.returned_at, handoff.return_reason = actor, at, reason.strip()
    handoff.save(update_fields=["returned_by", "returned_at", "return_reason", "response_breached_at"])
    _event(
        case,
        Kind.HANDOFF_RETURNED,
        at=at,
        actor=actor,
        department_id=handoff.to_department_id,
        handoff=handoff,
        reason=handoff.return_reason,
        to_department=handoff.from_department.code,
    )
    notifications.notify_returned(handoff)
    sender = Department.objects.get(pk=handoff.from_department_id)
    back = Handoff(to_department=handoff.to_department, to_stage=handoff.to_stage)
    _request_handoff(
        case,
        to_department=sender,
        to_stage=handoff.from_stage,
        from_handoff=back,
        actor=actor,
        at=at,
        note=handoff.return_reason,
        cache=cache,
    )
    return handoff


@transaction.atomic
def case_forward(
    *, case: Case, to_stage: Stage | str, actor: User, note: str = "", at: datetime | None = None
) -> Handoff:
    """Complete the accepted handoff and request the next one along an allowed transition."""
    at = _now(at)
    case = _lock_case(case.pk)
    handoff = _require_open_handoff(case)
    policy.require_acts_for(actor, handoff.to_department_id, action="forward")
    if isinstance(to_stage, str):
        target = (
            Stage.objects.select_related("department").filter(process=case.process, code=to_stage).first()
        )
        if target is None:
            raise _invalid(
                "to_stage", f"Unknown stage {to_stage!r} in process {case.process.code}.", "unknown_stage"
            )
    else:
        target = to_stage
    if handoff.kind != Handoff.Kind.ROUTING:
        raise StateConflict("A compensation approval is decided, not forwarded.", code="handoff_is_approval")
    if handoff.status != Handoff.Status.ACCEPTED:
        raise StateConflict("Accept the handoff before forwarding it.", code="handoff_not_accepted")
    if not Transition.objects.filter(from_stage=handoff.to_stage, to_stage=target).exists():
        raise _invalid(
            "to_stage", f"There is no route from {handoff.to_stage.code} to {target.code}.", "no_such_route"
        )
    cache = ScheduleCache()
    _complete(case, handoff, actor=actor, at=at, cache=cache)
    return _request_handoff(
        case,
        to_department=target.department,
        to_stage=target,
        from_handoff=handoff,
        actor=actor,
        at=at,
        note=note,
        cache=cache,
    )


@transaction.atomic
def handoff_claim(*, handoff: Handoff, actor: User, at: datetime | None = None) -> Handoff:
    at = _now(at)
    case, handoff = _lock_handoff(handoff.pk)
    policy.require_acts_for(actor, handoff.to_department_id, action="claim")
    if not handoff.is_open:
        raise StateConflict("Only an open handoff can be claimed.", code="handoff_not_open")
    if handoff.assignee_id == actor.pk:
        return handoff
    if handoff.assignee_id is not None:
        raise StateConflict("Someone else has claimed this handoff.", code="handoff_already_claimed")
    handoff.assignee = actor
    handoff.save(update_fields=["assignee"])
    _event(
        case,
        Kind.HANDOFF_CLAIMED,
        at=at,
        actor=actor,
        department_id=handoff.to_department_id,
        handoff=handoff,
    )
    return handoff


@transaction.atomic
def handoff_pause(
    *, handoff: Handoff, actor: User, cause: str, note: str = "", at: datetime | None = None
) -> Handoff:
    """Stop the resolution clock while waiting on the customer or an outside party (never a department)."""
    at = _now(at)
    if cause not in PauseSegment.Cause.values:
        raise _invalid("cause", f"Unknown pause cause {cause!r}.", "unknown_cause")
    case, handoff = _lock_handoff(handoff.pk)
    policy.require_acts_for(actor, handoff.to_department_id, action="pause")
    if handoff.status != Handoff.Status.ACCEPTED:
        raise StateConflict("Only an accepted handoff can be paused.", code="handoff_not_accepted")
    if handoff.paused_at is not None:
        raise StateConflict("The handoff is already paused.", code="handoff_paused")
    PauseSegment.objects.create(handoff=handoff, cause=cause, note=note, started_at=at, started_by=actor)
    handoff.paused_at = at
    handoff.save(update_fields=["paused_at"])
    _event(
        case,
        Kind.PAUSED,
        at=at,
        actor=actor,
        department_id=handoff.to_department_id,
        handoff=handoff,
        cause=cause,
        note=note,
    )
    return handoff


@transaction.atomic
def handoff_resume(*, handoff: Handoff, actor: User, at: datetime | None = None) -> Handoff:
    at = _now(at)
    case, handoff = _lock_handoff(handoff.pk)
    policy.require_acts_for(actor, handoff.to_department_id, action="resume")
    if handoff.paused_at is None:
        raise StateConflict("The handoff is not paused.", code="handoff_not_paused")
    seconds = _end_pause(handoff, actor=actor, at=at, cache=ScheduleCache())
    _event(
        case,
        Kind.RESUMED,
        at=at,
        actor=actor,
        department_id=handoff.to_department_id,
        handoff=handoff,
        paused_business_seconds=seconds,
        resolution_due_at=handoff.resolution_due_at.isoformat(),
    )
    return handoff


# -- case-level changes ---------------------------------------------------------------------------
@transaction.atomic
def case_comment(*, case: Case, actor: User, text: str, at: datetime | None = None) -> CaseEvent:
    at = _now(at)
    if not (text or "").strip():
        raise _invalid("text", "A comment cannot be empty.", "comment_required")
    case = _lock_case(case.pk)
    policy.require_works_on_case(actor, case, action="comment on")
    _touch(case, at)
    return _event(
        case, Kind.COMMENT, at=at, actor=actor, department_id=case.current_department_id, text=text.strip()
    )


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


def _callback_stage(resolved_stage: Stage) -> Stage | None:
    route = (
        Transition.objects.select_related("to_stage__department")
        .filter(from_stage=resolved_stage, to_stage__is_final=True)
        .exclude(to_stage=resolved_stage)
        .first()
    )
    return route.to_stage if route else None


def _apply_resolution(
    case: Case,
    *,
    actor: User | None,
    at: datetime,
    from_handoff: Handoff,
    cache: ScheduleCache,
    resolver: User | None = None,
):
    """`resolver` is who proposed the resolution when someone else (the compensation approver) is
    the actor completing it: the resolution stays theirs."""
    case.status = Case.Status.RESOLVED
    case.resolved_at, case.resolved_by = at, resolver or actor
    _touch(
        case,
        at,
        "status",
        "resolved_at",
        "resolved_by",
        "resolution",
        "recovery_measure",
        "compensation_amount",
        "compensation_approval",
        "resolved_stage",
    )
    _event(
        case,
        Kind.RESOLVED,
        at=at,
        actor=actor,
        department_id=case.resolved_stage.department_id,
        resolution=case.resolution,
        recovery_measure=case.recovery_measure,
        compensation_amount=str(case.compensation_amount) if case.compensation_amount is not None else None,
    )
    callback = _callback_stage(case.resolved_stage)
    if callback is not None:
        _request_handoff(
            case,
            to_department=callback.department,
            to_stage=callback,
            from_handoff=from_handoff,
            actor=actor,
            at=at,
            note="call-back",
            cache=cache,
        )


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
    case = _lock_case(case.pk)
    handoff = _require_open_handoff(case)
    policy.require_acts_for(actor, handoff.to_department_id, action="resolve")
    if case.status not in (Case.Status.OPEN, Case.Status.IN_PROGRESS):
        raise StateConflict("Only an open case can be resolved.", code="case_not_open")
    if handoff.kind != Handoff.Kind.ROUTING:
        raise StateConflict("The compensation is awaiting approval.", code="awaiting_approval")
    if handoff.status != Handoff.Status.ACCEPTED:
        raise StateConflict("Accept the handoff before resolving.", code="handoff_not_accepted")
    if not handoff.to_stage.can_resolve:
        raise StateConflict(
            f"Stage {handoff.to_stage.code} cannot resolve cases.", code="stage_cannot_resolve"
        )
    cache = ScheduleCache()
    _complete(case, handoff, actor=actor, at=at, cache=cache)
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
        case.compensation_approval = Case.Approval.PENDING
        _touch(
            case,
            at,
            "resolution",
            "recovery_measure",
            "compensation_amount",
            "compensation_approval",
            "resolved_stage",
        )
        _event(
            case,
            Kind.COMPENSATION_REQUESTED,
            at=at,
            actor=actor,
            department_id=handoff.to_department_id,
            amount=str(amount),
            threshold=str(process.compensation_threshold),
            approver=process.compensation_approver.code,
        )
        _request_handoff(
            case,
            to_department=process.compensation_approver,
            to_stage=None,
            from_handoff=handoff,
            actor=actor,
            at=at,
            note=f"compensation {amount}",
            kind=Handoff.Kind.APPROVAL,
            cache=cache,
        )
        return case
    case.compensation_approval = Case.Approval.NOT_NEEDED
    _apply_resolution(case, actor=actor, at=at, from_handoff=handoff, cache=cache)
    return case


@transaction.atomic
def compensation_decide(
    *, case: Case, actor: User, approve: bool, note: str = "", at: datetime | None = None
) -> Case:
    at = _now(at)
    if not approve and not (note or "").strip():
        raise _invalid("note", "Say why the compensation is rejected.", "reason_required")
    case = _lock_case(case.pk)
    handoff = _require_open_handoff(case)
    if handoff.kind != Handoff.Kind.APPROVAL:
        raise StateConflict("No compensation is awaiting approval.", code="no_pending_approval")
    policy.require_acts_for(actor, handoff.to_department_id, action="approve")
    cache = ScheduleCache()
    if handoff.status == Handoff.Status.PENDING:
        _mark_accepted(handoff, case, actor=actor, at=at, cache=cache)
    _complete(case, handoff, actor=actor, at=at, cache=cache)
    if approve:
        case.compensation_approval = Case.Approval.APPROVED
        _event(
            case,
            Kind.COMPENSATION_APPROVED,
            at=at,
            actor=actor,
            department_id=handoff.to_department_id,
            amount=str(case.compensation_amount),
            note=note,
        )
        _apply_resolution(
            case, actor=actor, at=at, from_handoff=handoff, cache=cache, resolver=handoff.requested_by
        )
        return case
    case.compensation_approval = Case.Approval.REJECTED
    stage = case.resolved_stage
    case.resolved_stage = None
    _touch(case, at, "compensation_approval", "resolved_stage")
    _event(
        case,
        Kind.COMPENSATION_REJECTED,
        at=at,
        actor=actor,
        department_id=handoff.to_department_id,
        amount=str(case.compensation_amount),
        note=note,
    )
    _request_handoff(
        case,
        to_department=stage.department,
        to_stage=stage,
        from_handoff=handoff,
        actor=actor,
        at=at,
        note=note,
        cache=cache,
    )
    return case


@transaction.atomic
def case_close(*, case: Case, actor: User | None, at: datetime | None = None, system: bool = False) -> Case:
    """Close a resolved case (the call-back department completes its handoff); `system` is auto-close."""
    at = _now(at)
    case = _lock_case(case.pk)
    if case.status != Case.Status.RESOLVED:
        raise StateConflict("Only a resolved case can be closed.", code="case_not_resolved")
    handoff = _open_handoff(case)
    cache = ScheduleCache()
    if handoff is not None:
        if not system:
            policy.require_acts_for(actor, handoff.to_department_id, action="close")
        if handoff.status == Handoff.Status.PENDING:
            if not system:
                raise StateConflict(
                    "Accept the call-back handoff before closing.", code="handoff_not_accepted"
                )
            _mark_accepted(handoff, case, actor=None, at=at, cache=cache)
        _complete(case, handoff, actor=actor, at=at, cache=cache)
    elif not system:
        policy.require_acts_for(actor, case.current_department_id, action="close")
    case.status = Case.Status.CLOSED
    case.closed_at = at
    _touch(case, at, "status", "closed_at")
    _event(case, Kind.CLOSED, at=at, actor=actor, department_id=case.current_department_id, automatic=system)
    return case


@transaction.atomic
def case_reopen(*, case: Case, actor: User, reason: str, at: datetime | None = None) -> Case:
    """Reopen within the process's window; the case goes back to the department that resolved it."""
    at = _now(at)
    if not (reason or "").strip():
        raise _invalid("reason", "Say why the case is reopened.", "reason_required")
    case = _lock_case(case.pk)
    policy.require_works_on_case(actor, case, action="reopen")
    if case.status not in (Case.Status.RESOLVED, Case.Status.CLOSED):
        raise StateConflict("Only a resolved or closed case can be reopened.", code="case_not_resolved")
    window = timedelta(days=case.process.reopen_window_days)
    if case.resolved_at is None or at - case.resolved_at > window:
        raise StateConflict(
            f"The reopen window of {case.process.reopen_window_days} days has passed.",
            code="reopen_window_closed",
        )
    cache = ScheduleCache()
    pending = _open_handoff(case)
    if pending is not None:
        if pending.paused_at is not None:
            _end_pause(pending, actor=actor, at=at, cache=cache)
        pending.status = Handoff.Status.CANCELLED
        pending.save(update_fields=["status"])
        _event(
            case,
            Kind.HANDOFF_CANCELLED,
            at=at,
            actor=actor,
            department_id=pending.to_department_id,
            handoff=pending,
            reason="reopened",
        )
    stage = case.resolved_stage or case.current_stage
    case.status = Case.Status.IN_PROGRESS
    case.reopen_count += 1
    case.resolved_at = None
    case.closed_at = None
    _touch(case, at, "status", "reopen_count", "resolved_at", "closed_at")
    _event(
        case,
        Kind.REOPENED,
        at=at,
        actor=actor,
        department_id=stage.department_id,
        reason=reason.strip(),
        reopen_count=case.reopen_count,
    )
    origin = Handoff(to_department=case.current_department, to_stage=case.current_stage)
    handoff = _request_handoff(
        case,
        to_department=stage.department,
        to_stage=stage,
        from_handoff=origin,
        actor=actor,
        at=at,
        note=reason.strip(),
        cache=cache,
    )
    notifications.notify_reopened(handoff, case.reopen_count, reason.strip())
    return case


@transaction.atomic
def case_cancel(*, case: Case, actor: User, reason: str, at: datetime | None = None) -> Case:
    at = _now(at)
    if not (reason or "").strip():
        raise _invalid("reason", "Say why the case is cancelled.", "reason_required")
    case = _lock_case(case.pk)
    policy.require_acts_for(actor, case.current_department_id, action="cancel")
    if case.status not in (Case.Status.OPEN, Case.Status.IN_PROGRESS):
        raise StateConflict("Only an open case can be cancelled.", code="case_not_open")
    pending = _open_handoff(case)
    if pending is not None:
        if pending.paused_at is not None:
            _end_pause(pending, actor=actor, at=at, cache=ScheduleCache())
        pending.status = Handoff.Status.CANCELLED
        pending.save(update_fields=["status"])
        _event(
            case,
            Kind.HANDOFF_CANCELLED,
            at=at,
            actor=actor,
            department_id=pending.to_department_id,
            handoff=pending,
            reason="cancelled",
        )
    case.status = Case.Status.CANCELLED
    case.cancelled_at = at
    _touch(case, at, "status", "cancelled_at")
    _event(
        case,
        Kind.CANCELLED,
        at=at,
        actor=actor,
        department_id=case.current_department_id,
        reason=reason.strip(),
    )
    return case


@transaction.atomic
def case_extend_deadline(*, case: Case, actor: User, reason: str, at: datetime | None = None) -> Case:
    """Extend the regulatory deadline: first by the current department's lead, then (particularly
    complicated cases) by the process's designated approving department. The customer is told."""
    at = _now(at)
    if not (reason or "").strip():
        raise _invalid("reason", "An extension needs a reason.", "reason_required")
    case = _lock_case(case.pk)
    if case.regulatory_deadline is None:
        raise StateConflict("This case has no regulatory deadline.", code="no_regulatory_deadline")
    if case.status not in (Case.Status.OPEN, Case.Status.IN_PROGRESS):
        raise StateConflict("Only an open case can be extended.", code="case_not_open")
    process = case.process
    from departments import policy as dept_policy

    if case.regulatory_extensions == 0:
        if not dept_policy.leads(actor, case.current_department_id):
            raise PermissionDenied("The first extension is approved by the department lead.", code="not_lead")
        days = process.first_extension_days
    elif case.regulatory_extensions == 1:
        approver = process.second_extension_approver_id
        if approver is None or not dept_policy.acts_for(actor, approver):
            raise PermissionDenied(
                "The second extension needs the designated approving department.", code="not_approver"
            )
        days = process.second_extension_days
    else:
        raise StateConflict("The deadline has been extended twice already.", code="no_more_extensions")
    before = case.regulatory_deadline
    case.regulatory_deadline = before + timedelta(days=days)
    case.regulatory_extensions += 1
    _touch(case, at, "regulatory_deadline", "regulatory_extensions")
    _event(
        case,
        Kind.DEADLINE_EXTENDED,
        at=at,
        actor=actor,
        department_id=case.current_department_id,
        previous=before.isoformat(),
        deadline=case.regulatory_deadline.isoformat(),
        days=days,
        extension=case.regulatory_extensions,
        approver=actor.get_username(),
        reason=reason.strip(),
    )
    _event(
        case,
        Kind.CUSTOMER_NOTIFIED,
        at=at,
        actor=actor,
        department_id=case.current_department_id,
        channel=case.channel,
        about="deadline_extended",
        deadline=case.regulatory_deadline.isoformat(),
    )
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
