"""The moves of a handoff: accept, return, forward, claim, pause, resume."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from core.errors import field_error as _invalid
from departments.models import Membership
from processes import rules, writes
from processes.models import (
    EVENT_KINDS,
    Case,
    CaseEvent,
    Handoff,
    Notification,
    PauseSegment,
    Stage,
)
from processes.services.base import (
    _complete,
    _end_pause,
    _finish,
    _lock_handoff,
    _lock_open,
    _mark_accepted,
    _now,
    _request_handoff,
    _require_acts_for,
    _require_open_handoff,
)

# The state changes of this module (re-exported by processes.services).
__all__ = [
    "case_forward",
    "handoff_accept",
    "handoff_claim",
    "handoff_pause",
    "handoff_resume",
    "handoff_return",
    "handoff_transfer",
]

User = AbstractBaseUser
Kind = CaseEvent.Kind
NoticeKind = Notification.Kind


# -- handoff moves --------------------------------------------------------------------------------
@transaction.atomic
def handoff_accept(*, handoff: Handoff | int, actor: User, at: datetime | None = None) -> Handoff:
    change, handoff = _lock_handoff(handoff, actor, _now(at))
    _require_acts_for(actor, handoff, "accept")
    rules.refuse(rules.can_accept(handoff))
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
    rules.refuse(rules.can_return(case, handoff))
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
    rules.refuse(rules.can_forward(handoff))
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
    rules.refuse(rules.can_claim(handoff, actor))
    if handoff.assignee_id == actor.pk:
        return handoff
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
    rules.refuse(rules.can_pause(handoff))
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
    rules.refuse(rules.can_resume(handoff))
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


# -- transferring ownership within the department --------------------------------------------------
def _transferred(event, payload, handoff) -> str:
    """The timeline's line of a transfer."""
    return gettext("Handed over from %(from_user)s to %(to_user)s.") % {
        "from_user": payload.get("from_user") or "—",
        "to_user": payload.get("to_user", ""),
    }


HANDOFF_TRANSFERRED = EVENT_KINDS.add(
    "handoff_transferred", gettext_lazy("handoff transferred"), sentence=_transferred
)


def _label(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


@transaction.atomic
def handoff_transfer(
    *, handoff: Handoff | int, actor: User, to_user: User | str, at: datetime | None = None
) -> Handoff:
    """Hand an accepted handoff to another active member of its department (`to_user`: a user or a
    username), by its assignee or the department's lead. Giving it to its assignee changes nothing."""
    change, handoff = _lock_handoff(handoff, actor, _now(at))
    _require_acts_for(actor, handoff, "transfer")
    rules.refuse(rules.may_transfer(actor, handoff))
    rules.refuse(rules.can_transfer(handoff))
    who = {"user__username": to_user} if isinstance(to_user, str) else {"user_id": to_user.pk}
    member = (
        Membership.objects.select_related("user")
        .filter(
            department_id=handoff.to_department_id, department__is_active=True, user__is_active=True, **who
        )
        .first()
    )
    if member is None:
        raise _invalid("to_user", "Not an active member of the receiving department.", "assignee_not_member")
    if handoff.assignee_id == member.user_id:
        return handoff
    previous = actor if handoff.assignee_id == actor.pk else handoff.assignee
    handoff.assignee = member.user
    writes.update(handoff, ["assignee"])
    change.event(
        HANDOFF_TRANSFERRED,
        department_id=handoff.to_department_id,
        handoff=handoff,
        from_user=_label(previous),
        to_user=_label(member.user),
    )
    change.flush()
    return handoff
