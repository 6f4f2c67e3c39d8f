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
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Value
from django.utils import timezone

from departments import policy as dept_policy
from departments import snapshot as dept_snapshot
from departments.business_time import Schedule
from departments.errors import InvalidInput, NotFound, PermissionDenied, StateConflict
from departments.models import ConfigStamp, Department, Membership
from processes import definitions, locking, notifications, policy, writes
from processes.clock import DUE_SOON_FRACTION
from processes.customers import lookup as customer_lookup
from processes.customers import messages as customer_messages
from processes.models import (
    Case,
    CaseEvent,
    CustomerMessage,
    Handoff,
    Notification,
    OutboxEntry,
    PauseSegment,
    Priority,
    ReferenceCounter,
    ServiceProcess,
    Stage,
)
from processes.webhooks import delivery as webhook_delivery

User = AbstractBaseUser
Kind = CaseEvent.Kind
NoticeKind = Notification.Kind


# -- helpers --------------------------------------------------------------------------------------
def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _invalid(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, code=code, extra={"fields": {field: [message]}})


def _user(actor: User | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


class _Change:
    """One state change in the making: the time, the configuration it reads and the rows it writes.

    Writes are gathered and each row is written once (`_flush`): the case in one UPDATE, the events
    in one INSERT, the outbox entries in one more. The calendars and the process definition come
    from the process's memory, under the configuration stamp read by the locking statement."""

    def __init__(self, case: Case, *, at: datetime, actor: User | None, stamp: int | None) -> None:
        self.case, self.at, self.actor = case, at, _user(actor)
        self.departments = dept_snapshot.snapshot(stamp)
        self.definition = definitions.definition(case.process_id, stamp)
        case.process = self.definition.process
        # Related rows from memory, so that nothing reads them again (answers, notifications).
        if case.current_stage_id is not None and case.pk is not None:
            case.current_stage = self.definition.stage(case.current_stage_id)
        if case.current_department_id is not None and case.pk is not None:
            case.current_department = self.department(case.current_department_id)
        # The handoff open when the change is done (None when it closed the last one), once the
        # change has looked: with the case, what an answer to the caller shows without a query.
        self.open_handoff: Handoff | None = None
        self.knows_open = False
        self.case_fields: set[str] = set()
        self.touched = False
        self.events: list[CaseEvent] = []
        self.entries: list[OutboxEntry] = []

    def department(self, department_id: int) -> Department:
        return self.departments.department(department_id)

    def schedule(self, department_id: int) -> Schedule:
        return self.departments.department_schedule(department_id)

    def business_seconds(self, department_id: int, start: datetime, end: datetime) -> int:
        return max(0, int(self.schedule(department_id).between(start, end).total_seconds()))

    def touch(self, *fields: str) -> None:
        self.case_fields.update(fields)
        self.touched = True

    def event(
        self,
        kind: str,
        *,
        department_id: int | None = None,
        handoff: Handoff | None = None,
        actor: User | bool | None = True,
        **payload: Any,
    ) -> CaseEvent:
        event = CaseEvent(
            case=self.case,
            handoff=handoff,
            kind=kind,
            actor=self.actor if actor is True else _user(actor or None),
            department_id=department_id,
            created_at=self.at,
            payload=payload,
        )
        self.events.append(event)
        return event

    def notify(self, kind: str, key: str, handoff: Handoff, **facts: Any) -> None:
        if not notifications.muted_now():
            self.entries.append(
                notifications.handoff_entry(
                    kind, key, handoff_id=handoff.pk, case_id=self.case.pk, at=self.at, **facts
                )
            )

    def flush(self) -> None:
        case = self.case
        if self.touched:
            case.updated_at = max(self.at, case.updated_at) if case.updated_at else self.at
            writes.update(case, [*sorted(self.case_fields), "updated_at"])
        if self.events:
            writes.insert(self.events)
            if (
                not self.entries
                and not notifications.muted_now()
                and definitions.webhooks_wanted(self.departments.stamp)
            ):
                # The events are the webhooks' outbox (the change feed): a nudge after commit; with
                # outbox entries, the notifications' nudge carries it (one broker call per commit).
                # Replayed history (muted) waits for beat instead of one message per change, and
                # without an active subscription there is nobody to nudge for.
                transaction.on_commit(webhook_delivery.kick, robust=True)
        notifications.enqueue(self.entries)
        if self.knows_open:
            case.open_handoffs = [self.open_handoff] if self.open_handoff is not None else []
        case.schedules = self.departments


def _require_visible(actor: User | None, case: Case, what: str) -> None:
    """A case or handoff named by its reference or id (as the API does) is looked up within the
    actor's read scope, as a read would be: NotFound (404) outside it. A Case or Handoff object is one
    the caller already holds from a scoped query (the admin) or acts on as the system (the tasks).

    In scope: the case went through one of the actor's departments (a column of the locking
    statement), the actor opened it, or the actor sees every department."""
    if actor is None or case._works_on or (case.created_by_id is not None and case.created_by_id == actor.pk):
        return
    if not dept_policy.sees_all(actor):
        raise NotFound(f"No {what} in your departments.", code="not_found")


def _case_label(case: Case | str) -> str:
    return f"case {case}" if isinstance(case, str) else f"case {case.reference or case.pk}"


def _lock_case(case: Case | str, actor: User | None = None) -> Case:
    locked = locking.case(case, actor)
    if locked is None:
        raise NotFound(f"No {_case_label(case)} in your departments.", code="not_found")
    if isinstance(case, str):
        _require_visible(actor, locked.case, _case_label(case))
    locked.case._stamp = locked.stamp
    return locked.case


def _require_works_on(actor: User, case: Case, action: str) -> None:
    if case._works_on and actor.is_active:
        return
    policy.require_works_on_case(actor, case, action=action)


def _adopt(change: _Change, handoff: Handoff) -> Handoff:
    handoff.case = change.case
    handoff.to_department = change.department(handoff.to_department_id)
    if handoff.from_department_id is not None:
        handoff.from_department = change.department(handoff.from_department_id)
    if handoff.to_stage_id is not None:
        handoff.to_stage = change.definition.stage(handoff.to_stage_id)
    change.open_handoff, change.knows_open = (handoff if handoff.is_open else None), True
    return handoff


def _lock_handoff(handoff: Handoff | int, actor: User | None, at: datetime) -> tuple[_Change, Handoff]:
    handoff_id = handoff if isinstance(handoff, int) else handoff.pk
    locked = locking.handoff(handoff_id, actor)
    if locked is None:
        raise NotFound(f"No handoff {handoff_id} in your departments.", code="not_found")
    if isinstance(handoff, int):
        _require_visible(actor, locked.case, f"handoff {handoff_id}")
    change = _Change(locked.case, at=at, actor=actor, stamp=locked.stamp)
    return change, _adopt(change, locked.handoff)


def _lock_open(case: Case | str, actor: User | None, at: datetime) -> tuple[_Change, Handoff | None]:
    """The case locked with its open handoff. Usually one statement through the open handoff; when
    there is none (or it closed while this waited for the lock), the case alone, then a fresh look."""
    locked = locking.open_handoff(case, actor)
    if locked is not None:
        if isinstance(case, str):
            _require_visible(actor, locked.case, _case_label(case))
        change = _Change(locked.case, at=at, actor=actor, stamp=locked.stamp)
        return change, _adopt(change, locked.handoff)
    locked_case = _lock_case(case, actor)
    change = _Change(locked_case, at=at, actor=actor, stamp=locked_case._stamp)
    change.knows_open = True
    handoff = (
        Handoff.objects.filter(case_id=locked_case.pk, status__in=Handoff.OPEN_STATUSES)
        .annotate(_member=_member(actor, "to_department_id"))
        .first()
    )
    return change, _adopt(change, handoff) if handoff is not None else None


def _member(actor: User | None, department_ref: str) -> Exists | Value:
    if actor is None or not actor.is_authenticated:
        return Value(False)
    return Exists(
        Membership.objects.filter(
            user_id=actor.pk, department_id=OuterRef(department_ref), department__is_active=True
        )
    )


def _require_open_handoff(handoff: Handoff | None, actor: User, case: Case, action: str) -> Handoff:
    """The open handoff; without one, a 409 only for those who work on the case (the permission comes
    before what the state makes of the request, so the state is not told to anyone else)."""
    if handoff is None:
        _require_works_on(actor, case, action)
        raise StateConflict("The case has no open handoff.", code="no_open_handoff")
    return handoff


def _require_acts_for(actor: User, handoff: Handoff, action: str) -> None:
    policy.require_acts_for(actor, handoff.to_department_id, action=action, member=handoff._member)


def _targets(change: _Change, stage: Stage | None, priority: str) -> tuple[int, int]:
    if stage is None:  # compensation approval
        return (
            settings.BATON_APPROVAL_RESPONSE_MINUTES * 60,
            settings.BATON_APPROVAL_RESOLUTION_MINUTES * 60,
        )
    target = change.definition.targets.get((stage.pk, priority))
    if target is None:
        raise InvalidInput(
            f"Stage {stage.code} has no target for priority {priority}; the quality office must set one.",
            code="stage_without_target",
        )
    return target


def _request_handoff(
    change: _Change,
    *,
    to_department: Department,
    to_stage: Stage | None,
    from_handoff: Handoff | None,
    note: str = "",
    kind: str = Handoff.Kind.ROUTING,
) -> Handoff:
    case, at = change.case, change.at
    response_s, resolution_s = _targets(change, to_stage, case.priority)
    schedule = change.schedule(to_department.pk)
    handoff = Handoff(
        case=case,
        kind=kind,
        from_department=from_handoff.to_department if from_handoff else None,
        from_stage=from_handoff.to_stage if from_handoff else None,
        to_department=to_department,
        to_stage=to_stage,
        priority=case.priority,
        note=note,
        requested_by=change.actor,
        requested_at=at,
        response_target_seconds=response_s,
        resolution_target_seconds=resolution_s,
        response_due_at=schedule.add(at, timedelta(seconds=response_s)),
        resolution_due_at=schedule.add(at, timedelta(seconds=resolution_s)),
        response_warn_at=schedule.add(at, timedelta(seconds=response_s * DUE_SOON_FRACTION)),
        resolution_warn_at=schedule.add(at, timedelta(seconds=resolution_s * DUE_SOON_FRACTION)),
    )
    writes.insert([handoff])
    change.open_handoff, change.knows_open = handoff, True
    if to_stage is not None:
        case.current_stage = to_stage
    case.current_department = to_department
    change.touch("current_stage", "current_department")
    change.event(
        Kind.HANDOFF_REQUESTED,
        department_id=handoff.from_department_id,
        handoff=handoff,
        to_department=to_department.code,
        to_stage=to_stage.code if to_stage else None,
        handoff_kind=kind,
        note=note,
        response_due_at=handoff.response_due_at.isoformat(),
        resolution_due_at=handoff.resolution_due_at.isoformat(),
    )
    # Members of the receiving department; an approval handoff has its own kind of notice.
    notice = NoticeKind.COMPENSATION_APPROVAL if kind == Handoff.Kind.APPROVAL else NoticeKind.HANDOFF_ARRIVED
    change.notify(notice, f"{notice}:{handoff.pk}", handoff)
    return handoff


def _finish(change: _Change, handoff: Handoff, *, status: str, fields: set[str]) -> None:
    """Close an open handoff as completed or returned, storing its business time to complete. The
    caller saves the handoff once, with `fields`."""
    at = change.at
    if handoff.paused_at is not None:
        _end_pause(change, handoff, fields=fields)
    handoff.status = status
    fields.add("status")
    if change.open_handoff is handoff:
        change.open_handoff = None
    if status == Handoff.Status.COMPLETED:
        handoff.completed_by, handoff.completed_at = change.actor, at
        elapsed = change.business_seconds(handoff.to_department_id, handoff.requested_at, at)
        handoff.seconds_to_complete = max(0, elapsed - handoff.paused_seconds)
        fields.update(["completed_by", "completed_at", "seconds_to_complete"])
    if handoff.resolution_breached_at is None and at > handoff.resolution_due_at:
        # Completed late before a sweep saw it: the breach happened at the due time all the same.
        handoff.resolution_breached_at = handoff.resolution_due_at
        fields.add("resolution_breached_at")


def _complete(change: _Change, handoff: Handoff, fields: set[str] | None = None) -> None:
    """Complete the open handoff, save it once and write its event, with the business time it took."""
    fields = set() if fields is None else fields
    _finish(change, handoff, status=Handoff.Status.COMPLETED, fields=fields)
    writes.update(handoff, sorted(fields))
    change.event(
        Kind.HANDOFF_COMPLETED,
        department_id=handoff.to_department_id,
        handoff=handoff,
        business_seconds=handoff.seconds_to_complete,
        within_target=handoff.seconds_to_complete <= handoff.resolution_target_seconds,
    )


def _mark_accepted(change: _Change, handoff: Handoff, *, actor: User | bool | None = True) -> set[str]:
    """Accept the handoff in memory and write its event; returns the fields the caller saves."""
    at = change.at
    who = change.actor if actor is True else _user(actor or None)
    handoff.status = Handoff.Status.ACCEPTED
    handoff.accepted_by, handoff.accepted_at = who, at
    handoff.seconds_to_accept = change.business_seconds(handoff.to_department_id, handoff.requested_at, at)
    if handoff.assignee_id is None and who is not None:
        handoff.assignee = who
    if handoff.response_breached_at is None and at > handoff.response_due_at:
        handoff.response_breached_at = handoff.response_due_at
    case = change.case
    if case.status == Case.Status.OPEN:
        case.status = Case.Status.IN_PROGRESS
        change.touch("status")
    change.event(
        Kind.HANDOFF_ACCEPTED,
        department_id=handoff.to_department_id,
        handoff=handoff,
        actor=actor,
        business_seconds=handoff.seconds_to_accept,
        within_target=handoff.seconds_to_accept <= handoff.response_target_seconds,
    )
    return {"status", "accepted_by", "accepted_at", "seconds_to_accept", "assignee", "response_breached_at"}


def _end_pause(change: _Change, handoff: Handoff, *, fields: set[str]) -> int:
    at = change.at
    segment = PauseSegment.objects.get(handoff=handoff, ended_at=None)
    seconds = change.business_seconds(handoff.to_department_id, segment.started_at, at)
    segment.ended_at, segment.ended_by, segment.business_seconds = at, change.actor, seconds
    writes.update(segment, ["ended_at", "ended_by", "business_seconds"])
    handoff.paused_at = None
    handoff.paused_seconds += seconds
    schedule = change.schedule(handoff.to_department_id)
    # The resolution clock excludes paused time: due = requested + target + everything paused so far.
    handoff.resolution_due_at = schedule.add(
        handoff.requested_at, timedelta(seconds=handoff.resolution_target_seconds + handoff.paused_seconds)
    )
    handoff.resolution_warn_at = schedule.add(
        handoff.requested_at,
        timedelta(seconds=handoff.resolution_target_seconds * DUE_SOON_FRACTION + handoff.paused_seconds),
    )
    fields.update(["paused_at", "paused_seconds", "resolution_due_at", "resolution_warn_at"])
    return seconds


# -- intake ---------------------------------------------------------------------------------------
def _next_reference(
    process: ServiceProcess, at: datetime, repeat: tuple[str, str, datetime] | None = None
) -> tuple[str, int | None, bool]:
    """The next number of the process's prefix and month, the configuration stamp and (given the
    customer's blind index and the start of the process's repeat window) whether the customer had a
    case of this process since then, in one statement (an upsert).

    Outside any transaction of the caller's, the number is taken in a transaction of its own, so
    intakes do not queue on the counter's row lock for the length of theirs. An intake that then
    fails leaves a gap in the numbers; references stay unique."""
    period = timezone.localtime(at).strftime("%Y%m")
    table = connection.ops.quote_name(ReferenceCounter._meta.db_table)
    stamps = connection.ops.quote_name(ConfigStamp._meta.db_table)
    # Table names come from the models, quoted; the values are parameters.
    # On PostgreSQL this small transaction does not wait for its own WAL flush (synchronous_commit
    # off, for it alone): a crash can lose only increments that no durable case used, because the
    # intake's own commit, which is synchronous, flushes the WAL up to and past this one.
    relaxed = ", set_config('synchronous_commit', 'off', true)" if connection.vendor == "postgresql" else ""
    params: list[Any] = [process.reference_prefix, period]
    repeated = "0"
    if repeat is not None:
        repeated, repeat_params = customer_lookup.repeat_exists_sql(process_id=process.pk, keys=repeat)
        params += repeat_params
    sql = (
        f"INSERT INTO {table} (prefix, period, value) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (prefix, period) DO UPDATE SET value = {table}.value + 1 "
        f"RETURNING value, (SELECT value FROM {stamps} WHERE id = 1), {repeated}{relaxed}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        value, stamp, is_repeat = cursor.fetchone()[:3]
    return f"{process.reference_prefix}-{period}-{value:06d}", stamp, bool(is_repeat)


def _existing_intake(actor: User, source: str, external_id: str, process: ServiceProcess) -> Case | None:
    """The case this caller opened with this source + external id. Only the caller's own ids are
    looked at, so the answer never says anything about another caller's cases; the same id sent for
    another process is a conflict with the caller's own case, not that case."""
    if not external_id:
        return None
    existing = locking.intake(actor, source, external_id)
    if existing is not None and existing.process_id != process.pk:
        raise StateConflict(
            f"You opened {existing.reference} with this source and external id in another process.",
            code="external_id_reused",
            extra={"reference": existing.reference},
        )
    return existing


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
    customer_email: str = "",
    source: str = "",
    external_id: str = "",
    note: str = "",
    at: datetime | None = None,
) -> tuple[Case, bool]:
    """Open a case with its intake handoff. Returns (case, created); the same source + external_id
    from the same opener returns the existing case, also when two requests race."""
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
    keys = customer_lookup.intake_keys(customer_phone=customer_phone, customer_id=customer_id, errors=errors)
    if errors:
        raise InvalidInput("Invalid case.", extra={"fields": errors})
    existing = _existing_intake(actor, source, external_id, process)
    if existing is not None:
        return existing, False
    # A repeat complaint: the same customer in the same process within the process's window, asked in
    # the statement that takes the reference number (no statement of its own on the intake path).
    repeat = None
    if keys and process.repeat_window_days:
        repeat = (keys.phone, keys.customer_id, at - timedelta(days=process.repeat_window_days))
    reference, stamp, is_repeat = _next_reference(process, at, repeat)
    if definitions.definition(process.pk, stamp).initial is None:
        raise InvalidInput(
            f"Process {process.code} has no initial stage.", code="process_without_initial_stage"
        )
    try:
        return _open(
            process=process,
            stamp=stamp,
            reference=reference,
            title=title,
            channel=channel,
            actor=actor,
            priority=priority,
            description=description,
            customer_id=customer_id,
            customer_name=customer_name,
            # Stored as normalised (digits, no country code): what the SMS gateway and the masks expect.
            customer_phone=customer_lookup.normalised_phone(customer_phone),
            customer_email=customer_email.strip(),
            keys=keys,
            repeat_complaint=is_repeat,
            source=source,
            external_id=external_id,
            note=note,
            at=at,
        )
    except IntegrityError:
        # A racing twin with the same source + external_id committed first: this transaction (or
        # savepoint, inside the caller's) is rolled back whole, and the twin is the answer.
        existing = _existing_intake(actor, source, external_id, process)
        if existing is None:
            raise
        return existing, False


@transaction.atomic
def _open(
    *, process: ServiceProcess, reference: str, stamp: int | None, at: datetime, actor: User, **data: Any
) -> tuple[Case, bool]:
    case = Case(
        reference=reference,
        process=process,
        title=data["title"].strip(),
        description=data["description"],
        customer_id=data["customer_id"],
        customer_name=data["customer_name"],
        customer_phone=data["customer_phone"],
        customer_email=data["customer_email"],
        customer_phone_key=data["keys"].phone,
        customer_id_key=data["keys"].customer_id,
        repeat_complaint=data["repeat_complaint"],
        channel=data["channel"],
        priority=data["priority"],
        source=data["source"],
        external_id=data["external_id"],
        regulatory_deadline=(
            timezone.localtime(at).date() + timedelta(days=process.regulatory_days)
            if process.regulatory_days
            else None
        ),
        created_by=actor,
        created_at=at,
        updated_at=at,
    )
    change = _Change(case, at=at, actor=actor, stamp=stamp)
    initial = change.definition.initial
    schedule = change.schedule(initial.department_id)
    case.due_at = schedule.add(at, timedelta(hours=process.e2e_hours(data["priority"])))
    # The intake handoff's stage and department are the case's from its first row.
    case.current_stage, case.current_department = initial, initial.department
    writes.insert([case])
    change.event(
        Kind.CREATED,
        department_id=initial.department_id,
        process=process.code,
        channel=data["channel"],
        priority=data["priority"],
        source=data["source"],
        external_id=data["external_id"],
    )
    _request_handoff(
        change, to_department=initial.department, to_stage=initial, from_handoff=None, note=data["note"]
    )
    change.touched = False  # the INSERT above wrote the case as it is
    if data["repeat_complaint"]:
        change.events[0].payload["repeat_complaint"] = True
    customer_messages.tell(change, CustomerMessage.Kind.INTAKE)
    change.flush()
    return case, True


# -- handoff moves --------------------------------------------------------------------------------
@transaction.atomic
def handoff_accept(*, handoff: Handoff | int, actor: User, at: datetime | None = None) -> Handoff:
    change, handoff = _lock_handoff(handoff, actor, _now(at))
    _require_acts_for(actor, handoff, "accept")
    if handoff.status != Handoff.Status.PENDING:
        raise StateConflict("Only a pending handoff can be accepted.", code="handoff_not_pending")
    writes.update(handoff, sorted(_mark_accepted(change, handoff)))
    change.flush()
    return handoff


@transaction.atomic
def handoff_return(
    *, handoff: Handoff | int, actor: User, reason: str, at: datetime | None = None
) -> Handoff:
    """Send a handoff back to the department that sent it: a bounce, charged to the returning side."""
    at = _now(at)
    if not (reason or "").strip():
        raise _invalid("reason", "A reason is required to return a handoff.", "reason_required")
    change, handoff = _lock_handoff(handoff, actor, at)
    case = change.case
    _require_acts_for(actor, handoff, "return")
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
    fields: set[str] = set()
    if (
        handoff.status == Handoff.Status.PENDING
        and handoff.response_breached_at is None
        and at > handoff.response_due_at
    ):
        # Returned without ever being accepted, after the golden response time: that response breached.
        handoff.response_breached_at = handoff.response_due_at
        fields.add("response_breached_at")
    _finish(change, handoff, status=Handoff.Status.RETURNED, fields=fields)
    handoff.returned_by, handoff.returned_at, handoff.return_reason = change.actor, at, reason.strip()
    writes.update(handoff, sorted(fields | {"returned_by", "returned_at", "return_reason"}))
    sender = change.department(handoff.from_department_id)
    change.event(
        Kind.HANDOFF_RETURNED,
        department_id=handoff.to_department_id,
        handoff=handoff,
        reason=handoff.return_reason,
        to_department=sender.code,
    )
    # The person who sent the handoff learns that it came back, and why.
    change.notify(NoticeKind.RETURNED, f"returned:{handoff.pk}", handoff, reason=handoff.return_reason)
    from_stage = change.definition.stage(handoff.from_stage_id) if handoff.from_stage_id else None
    back = Handoff(to_department=handoff.to_department, to_stage=handoff.to_stage)
    _request_handoff(
        change, to_department=sender, to_stage=from_stage, from_handoff=back, note=handoff.return_reason
    )
    change.flush()
    return handoff


@transaction.atomic
def case_forward(
    *, case: Case | str, to_stage: Stage | str, actor: User, note: str = "", at: datetime | None = None
) -> Handoff:
    """Complete the accepted handoff and request the next one along an allowed transition."""
    change, handoff = _lock_open(case, actor, _now(at))
    handoff = _require_open_handoff(handoff, actor, change.case, "forward")
    case = change.case
    _require_acts_for(actor, handoff, "forward")
    definition = change.definition
    target = (
        definition.by_code.get(to_stage)
        if isinstance(to_stage, str)
        else definition.stages.get(to_stage.pk, to_stage)
    )
    if target is None:
        code = to_stage if isinstance(to_stage, str) else to_stage.code
        raise _invalid("to_stage", f"Unknown stage {code!r} in process {case.process.code}.", "unknown_stage")
    if handoff.kind != Handoff.Kind.ROUTING:
        raise StateConflict("A compensation approval is decided, not forwarded.", code="handoff_is_approval")
    if handoff.status != Handoff.Status.ACCEPTED:
        raise StateConflict("Accept the handoff before forwarding it.", code="handoff_not_accepted")
    if (handoff.to_stage_id, target.pk) not in definition.routes:
        raise _invalid(
            "to_stage", f"There is no route from {handoff.to_stage.code} to {target.code}.", "no_such_route"
        )
    _complete(change, handoff)
    new = _request_handoff(
        change, to_department=target.department, to_stage=target, from_handoff=handoff, note=note
    )
    change.flush()
    return new


@transaction.atomic
def handoff_claim(*, handoff: Handoff | int, actor: User, at: datetime | None = None) -> Handoff:
    change, handoff = _lock_handoff(handoff, actor, _now(at))
    _require_acts_for(actor, handoff, "claim")
    if not handoff.is_open:
        raise StateConflict("Only an open handoff can be claimed.", code="handoff_not_open")
    if handoff.assignee_id == actor.pk:
        return handoff
    if handoff.assignee_id is not None:
        raise StateConflict("Someone else has claimed this handoff.", code="handoff_already_claimed")
    handoff.assignee = actor
    writes.update(handoff, ["assignee"])
    change.event(Kind.HANDOFF_CLAIMED, department_id=handoff.to_department_id, handoff=handoff)
    change.flush()
    return handoff


@transaction.atomic
def handoff_pause(
    *, handoff: Handoff | int, actor: User, cause: str, note: str = "", at: datetime | None = None
) -> Handoff:
    """Stop the resolution clock while waiting on the customer or an outside party (never a department)."""
    at = _now(at)
    if cause not in PauseSegment.Cause.values:
        raise _invalid("cause", f"Unknown pause cause {cause!r}.", "unknown_cause")
    change, handoff = _lock_handoff(handoff, actor, at)
    _require_acts_for(actor, handoff, "pause")
    if handoff.status != Handoff.Status.ACCEPTED:
        raise StateConflict("Only an accepted handoff can be paused.", code="handoff_not_accepted")
    if handoff.paused_at is not None:
        raise StateConflict("The handoff is already paused.", code="handoff_paused")
    PauseSegment.objects.create(handoff=handoff, cause=cause, note=note, started_at=at, started_by=actor)
    handoff.paused_at = at
    writes.update(handoff, ["paused_at"])
    change.event(Kind.PAUSED, department_id=handoff.to_department_id, handoff=handoff, cause=cause, note=note)
    change.flush()
    return handoff


@transaction.atomic
def handoff_resume(*, handoff: Handoff | int, actor: User, at: datetime | None = None) -> Handoff:
    change, handoff = _lock_handoff(handoff, actor, _now(at))
    _require_acts_for(actor, handoff, "resume")
    if handoff.paused_at is None:
        raise StateConflict("The handoff is not paused.", code="handoff_not_paused")
    fields: set[str] = set()
    seconds = _end_pause(change, handoff, fields=fields)
    writes.update(handoff, sorted(fields))
    change.event(
        Kind.RESUMED,
        department_id=handoff.to_department_id,
        handoff=handoff,
        paused_business_seconds=seconds,
        resolution_due_at=handoff.resolution_due_at.isoformat(),
    )
    change.flush()
    return handoff


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
    if handoff is None:
        raise StateConflict("The case has no open handoff.", code="no_open_handoff")
    if handoff.kind != Handoff.Kind.APPROVAL:
        raise StateConflict("No compensation is awaiting approval.", code="no_pending_approval")
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
    if case.status != Case.Status.RESOLVED:
        raise StateConflict("Only a resolved case can be closed.", code="case_not_resolved")
    if handoff is not None:
        fields: set[str] = set()
        if handoff.status == Handoff.Status.PENDING:
            if not system:
                raise StateConflict(
                    "Accept the call-back handoff before closing.", code="handoff_not_accepted"
                )
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
    if case.status not in (Case.Status.RESOLVED, Case.Status.CLOSED):
        raise StateConflict("Only a resolved or closed case can be reopened.", code="case_not_resolved")
    window = timedelta(days=case.process.reopen_window_days)
    if case.resolved_at is None or at - case.resolved_at > window:
        raise StateConflict(
            f"The reopen window of {case.process.reopen_window_days} days has passed.",
            code="reopen_window_closed",
        )
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
    if case.status not in (Case.Status.OPEN, Case.Status.IN_PROGRESS):
        raise StateConflict("Only an open case can be cancelled.", code="case_not_open")
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
    # state checks below answer only those who may ask.
    approver = process.second_extension_approver_id
    if case.regulatory_extensions == 0 or (case.regulatory_extensions > 1 and approver is None):
        if not dept_policy.leads(actor, case.current_department_id):
            raise PermissionDenied("The first extension is approved by the department lead.", code="not_lead")
    elif approver is None or not dept_policy.acts_for(actor, approver):
        raise PermissionDenied(
            "The second extension needs the designated approving department.", code="not_approver"
        )
    if case.regulatory_deadline is None:
        raise StateConflict("This case has no regulatory deadline.", code="no_regulatory_deadline")
    if case.status not in (Case.Status.OPEN, Case.Status.IN_PROGRESS):
        raise StateConflict("Only an open case can be extended.", code="case_not_open")
    if case.regulatory_extensions == 0:
        days = process.first_extension_days
    elif case.regulatory_extensions == 1:
        days = process.second_extension_days
    else:
        raise StateConflict("The deadline has been extended twice already.", code="no_more_extensions")
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
