"""Every state change of a case or a handoff: one function each, used by the admin, the API,
the tasks and the commands alike.

Shape of each (docs/architecture.md, "The write path"): one transaction; the case row locked first (every change to a case
and its handoffs serialises on that one lock, so there is one lock order and no deadlock); the source
state checked (StateConflict → 409); the permission checked through the department policy
(PermissionDenied → 403); `save(update_fields=...)`; the timeline event written; side effects after
commit. `at` lets the demo history and tests replay the past; it defaults to now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef, Value
from django.utils import timezone

from core.errors import InvalidInput, NotFound, StateConflict
from departments import policy as dept_policy
from departments import snapshot as dept_snapshot
from departments.business_time import Schedule
from departments.models import Department, Membership
from processes import definitions, locking, notifications, policy, writes
from processes.clock import DUE_SOON_FRACTION
from processes.models import (
    Case,
    CaseEvent,
    Handoff,
    Notification,
    OutboxEntry,
    PauseSegment,
    Stage,
)
from processes.webhooks import delivery as webhook_delivery

User = AbstractBaseUser
Kind = CaseEvent.Kind
NoticeKind = Notification.Kind


# -- helpers --------------------------------------------------------------------------------------
def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


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
        user = self.actor if actor is True else _user(actor or None)
        # Keys rather than objects, with the objects put in the instance's relation cache: the
        # related descriptors' checks were a tenth of the time of a state change's Python.
        event = writes.new(
            CaseEvent,
            case_id=self.case.pk,
            handoff_id=handoff.pk if handoff is not None else None,
            kind=kind,
            actor_id=user.pk if user is not None else None,
            department_id=department_id,
            created_at=self.at,
            payload=payload,
        )
        cache = event._state.fields_cache
        cache["case"], cache["handoff"], cache["actor"] = self.case, handoff, user
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
        webhooks = False
        if self.events:
            writes.insert(self.events)
            # The events are the webhooks' outbox (the change feed): a nudge after commit, in the
            # same broker call as the notifications' nudge when there is one. Replayed history
            # (muted) waits for beat instead of one message per change, and without an active
            # subscription there is nobody to nudge for.
            webhooks = not notifications.muted_now() and definitions.webhooks_wanted(self.departments.stamp)
            if webhooks and not self.entries:
                transaction.on_commit(webhook_delivery.kick, robust=True)
        notifications.enqueue(self.entries, webhooks=webhooks)
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
    from_department = from_handoff.to_department if from_handoff else None
    from_stage = from_handoff.to_stage if from_handoff else None
    handoff = writes.new(
        Handoff,
        case_id=case.pk,
        kind=kind,
        from_department_id=from_department.pk if from_department is not None else None,
        from_stage_id=from_stage.pk if from_stage is not None else None,
        to_department_id=to_department.pk,
        to_stage_id=to_stage.pk if to_stage is not None else None,
        priority=case.priority,
        note=note,
        requested_by_id=change.actor.pk if change.actor is not None else None,
        requested_at=at,
        response_target_seconds=response_s,
        resolution_target_seconds=resolution_s,
        response_due_at=schedule.add(at, timedelta(seconds=response_s)),
        resolution_due_at=schedule.add(at, timedelta(seconds=resolution_s)),
        response_warn_at=schedule.add(at, timedelta(seconds=response_s * DUE_SOON_FRACTION)),
        resolution_warn_at=schedule.add(at, timedelta(seconds=resolution_s * DUE_SOON_FRACTION)),
    )
    # As in _Change.event: keys to the constructor, the objects to the relation cache.
    handoff._state.fields_cache.update(
        case=case,
        from_department=from_department,
        from_stage=from_stage,
        to_department=to_department,
        to_stage=to_stage,
        requested_by=change.actor,
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
