"""Reads of the process engine: scoped querysets with their joins applied, and the per-page work
(SLA badges, the allowed actions, readable timeline lines) done once for a whole page.

A page costs the same number of queries whatever the number of rows on it: every list below is one
query with `select_related`, the calendars of all its handoffs are loaded at once through one
`ScheduleCache`, and nothing here is looked up per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import models
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from departments import policy as dept_policy
from departments.models import Department
from processes import policy
from processes.clock import ScheduleCache, format_business_seconds, format_time_left, sla_state
from processes.models import (
    Case,
    CaseEvent,
    Handoff,
    PauseSegment,
    Priority,
    ServiceProcess,
    Stage,
    Transition,
    handoff_note_text,
)

# The due time of the clock that runs now: the response clock while pending, then the resolution clock.
CURRENT_DUE = models.Case(
    models.When(status=Handoff.Status.PENDING, then=F("response_due_at")),
    default=F("resolution_due_at"),
    output_field=models.DateTimeField(),
)


def localized_name(obj) -> str:
    """`name_en` when the active language is English and the row has one; `name` otherwise."""
    if obj is None:
        return ""
    name_en = getattr(obj, "name_en", "")
    if name_en and (get_language() or "").startswith("en"):
        return name_en
    return obj.name


def user_label(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


# -- the queue ------------------------------------------------------------------------------------
def handoff_queue(*, user) -> QuerySet[Handoff]:
    """Open handoffs waiting on the user's departments (every department's for those who see all),
    annotated with `current_due`, the due time of the clock that runs now."""
    handoffs = Handoff.objects.filter(status__in=Handoff.OPEN_STATUSES)
    if not dept_policy.sees_all(user):
        handoffs = handoffs.filter(to_department_id__in=dept_policy.acting_department_ids(user))
    return handoffs.select_related(
        "case__process", "to_stage", "from_department", "to_department", "assignee"
    ).annotate(current_due=CURRENT_DUE)


def filter_breached(handoffs: QuerySet[Handoff], *, breached: bool, now: datetime) -> QuerySet[Handoff]:
    """The same rule as the badge (`processes.clock.sla_state`): the running clock's due time has
    passed and the handoff is not paused. Needs the `current_due` annotation of `handoff_queue`."""
    overdue = Q(paused_at__isnull=True, current_due__lte=now)
    return handoffs.filter(overdue) if breached else handoffs.exclude(overdue)


def attach_sla(handoffs: Iterable[Handoff], *, now: datetime | None = None) -> list[Handoff]:
    """Set `handoff.sla` (a `SlaState`) on each handoff; every calendar is loaded once, up front.
    The handoffs need `to_department` loaded."""
    handoffs = list(handoffs)
    now = now or timezone.now()
    cache = ScheduleCache()
    cache.preload({h.to_department.calendar_id for h in handoffs})
    for handoff in handoffs:
        handoff.sla = sla_state(handoff, cache.get(handoff.to_department.calendar_id), now)
    return handoffs


def queue_departments(*, user) -> QuerySet[Department]:
    return dept_policy.visible_departments(user).filter(is_active=True)


def processes() -> QuerySet[ServiceProcess]:
    return ServiceProcess.objects.all()


# -- cases ----------------------------------------------------------------------------------------
def case_list(*, user) -> QuerySet[Case]:
    """Cases the user may see (those that passed through one of their departments), for lists."""
    return policy.visible_cases(user).select_related("process", "current_stage", "current_department")


def case_detail(*, user) -> QuerySet[Case]:
    """The same scope, with everything the case page shows of the case row itself."""
    return policy.visible_cases(user).select_related(
        "process", "current_stage__process", "current_department", "created_by", "resolved_by"
    )


def case_events(*, user) -> QuerySet[CaseEvent]:
    events = CaseEvent.objects.select_related("case", "department", "actor")
    if dept_policy.sees_all(user):
        return events
    return events.filter(case__in=policy.visible_cases(user).values("pk"))


def visible_handoffs(*, user) -> QuerySet[Handoff]:
    return policy.visible_handoffs(user)


def forward_targets(handoff: Handoff | None) -> list[Stage]:
    """Stages the open handoff may be forwarded to: the targets of its stage's transitions."""
    if handoff is None or handoff.kind != Handoff.Kind.ROUTING or handoff.to_stage_id is None:
        return []
    return list(
        Stage.objects.filter(
            pk__in=Transition.objects.filter(from_stage_id=handoff.to_stage_id).values("to_stage_id")
        )
        .select_related("department")
        .order_by("order", "pk")
    )


def open_handoff(case: Case) -> Handoff | None:
    return (
        Handoff.objects.select_related("to_stage", "to_department")
        .filter(case=case, status__in=Handoff.OPEN_STATUSES)
        .first()
    )


# -- what the user may do now ---------------------------------------------------------------------
class Action:
    """Names of the actions of the case page; each is one service function."""

    ACCEPT = "accept"
    RETURN = "return"
    FORWARD = "forward"
    PAUSE = "pause"
    RESUME = "resume"
    CLAIM = "claim"
    RESOLVE = "resolve"
    DECIDE_COMPENSATION = "decide_compensation"
    CLOSE = "close"
    REOPEN = "reopen"
    CANCEL = "cancel"
    EXTEND_DEADLINE = "extend_deadline"
    COMMENT = "comment"

    ORDER = (
        ACCEPT,
        CLAIM,
        RESUME,
        PAUSE,
        FORWARD,
        RESOLVE,
        DECIDE_COMPENSATION,
        RETURN,
        CLOSE,
        REOPEN,
        EXTEND_DEADLINE,
        CANCEL,
        COMMENT,
    )


def allowed_actions(
    user,
    case: Case,
    handoff: Handoff | None,
    *,
    handled_department_ids: set[int] | None = None,
    has_forward_targets: bool | None = None,
    now: datetime | None = None,
) -> frozenset[str]:
    """The actions the services would accept from `user` on `case` now; `handoff` is its open
    handoff (or None). The one place the admin asks, so that it never offers a refused action.

    Mirrors the guards of `processes.services` (state, then `departments.policy.acts_for` /
    `processes.policy.require_works_on_case`). It is stricter in one place: an approval handoff is
    decided (approve / reject), never returned. `handled_department_ids` and `has_forward_targets`
    can be passed by a caller that has them already, to save the queries.
    """
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    now = now or timezone.now()
    allowed: set[str] = set()
    case_is_open = case.status in (Case.Status.OPEN, Case.Status.IN_PROGRESS)

    if handoff is not None and dept_policy.acts_for(user, handoff.to_department_id):
        routing = handoff.kind == Handoff.Kind.ROUTING
        accepted = handoff.status == Handoff.Status.ACCEPTED
        if handoff.status == Handoff.Status.PENDING:
            allowed.add(Action.ACCEPT)
        if handoff.assignee_id is None:
            allowed.add(Action.CLAIM)
        if routing and handoff.from_department_id is not None:
            allowed.add(Action.RETURN)
        if accepted and handoff.paused_at is None:
            allowed.add(Action.PAUSE)
        if handoff.paused_at is not None:
            allowed.add(Action.RESUME)
        if routing and accepted:
            if has_forward_targets is None:
                has_forward_targets = bool(forward_targets(handoff))
            if has_forward_targets:
                allowed.add(Action.FORWARD)
            if handoff.to_stage is not None and handoff.to_stage.can_resolve:
                allowed.add(Action.RESOLVE)
        if not routing:
            allowed.add(Action.DECIDE_COMPENSATION)

    if case.status == Case.Status.RESOLVED:
        if handoff is not None:
            if handoff.status == Handoff.Status.ACCEPTED and dept_policy.acts_for(
                user, handoff.to_department_id
            ):
                allowed.add(Action.CLOSE)
        elif dept_policy.acts_for(user, case.current_department_id):
            allowed.add(Action.CLOSE)

    if case_is_open and dept_policy.acts_for(user, case.current_department_id):
        allowed.add(Action.CANCEL)

    if case_is_open and case.regulatory_deadline is not None:
        if case.regulatory_extensions == 0:
            if case.current_department_id and dept_policy.leads(user, case.current_department_id):
                allowed.add(Action.EXTEND_DEADLINE)
        elif case.regulatory_extensions == 1:
            approver = case.process.second_extension_approver_id
            if approver is not None and dept_policy.acts_for(user, approver):
                allowed.add(Action.EXTEND_DEADLINE)

    if dept_policy.acts_for_all(user):
        works_on_case = True
    else:
        if handled_department_ids is None:
            handled_department_ids = policy.handled_department_ids(case)
        works_on_case = bool(dept_policy.acting_department_ids(user) & handled_department_ids)
    if works_on_case:
        allowed.add(Action.COMMENT)
        window = timedelta(days=case.process.reopen_window_days)
        if (
            case.status in (Case.Status.RESOLVED, Case.Status.CLOSED)
            and case.resolved_at is not None
            and now - case.resolved_at <= window
        ):
            allowed.add(Action.REOPEN)
    return frozenset(allowed)


# -- the case page --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Customer:
    name: str
    phone: str
    id: str
    masked: bool


SLA_BADGE_LABELS = {
    "on_time": gettext_lazy("on time"),
    "due_soon": gettext_lazy("due soon"),
    "breached": gettext_lazy("breached"),
    "paused": gettext_lazy("paused"),
    "done": gettext_lazy("done"),
}


@dataclass(frozen=True)
class HandoffRow:
    handoff: Handoff  # with `.sla` and `.pause_list`
    from_label: str
    to_label: str
    stage_label: str
    badge_label: str
    time_left: str
    to_accept: str
    to_complete: str
    assignee_label: str
    note: str


@dataclass(frozen=True)
class TimelineEntry:
    event: CaseEvent
    summary: str
    department_label: str
    actor_label: str


@dataclass(frozen=True)
class CasePage:
    case: Case
    process_label: str
    stage_label: str
    department_label: str
    customer: Customer
    handoffs: list[HandoffRow]  # in the order they were requested
    open_handoff: Handoff | None
    current: HandoffRow | None  # the open handoff's row
    forward_targets: list[Stage]
    timeline: list[TimelineEntry]
    actions: frozenset[str]
    regulatory_days_left: int | None
    now: datetime


def customer(case: Case, user) -> Customer:
    if policy.can_see_pii(user):
        return Customer(case.customer_name, case.customer_phone, case.customer_id, masked=False)
    return Customer(
        policy.mask_name(case.customer_name),
        policy.mask_phone(case.customer_phone),
        policy.mask_id(case.customer_id),
        masked=True,
    )


def case_page(*, case: Case, user, now: datetime | None = None) -> CasePage:
    """Everything the case page shows, in a fixed number of queries (one per list)."""
    now = now or timezone.now()
    handoffs = list(
        Handoff.objects.filter(case=case)
        .select_related(
            "from_department",
            "to_department",
            "to_stage",
            "assignee",
            "requested_by",
            "accepted_by",
            "completed_by",
            "returned_by",
        )
        .prefetch_related(
            Prefetch(
                "pauses",
                queryset=PauseSegment.objects.select_related("started_by", "ended_by").order_by(
                    "started_at", "pk"
                ),
                to_attr="pause_list",
            )
        )
        .order_by("requested_at", "pk")
    )
    attach_sla(handoffs, now=now)
    current = next((h for h in handoffs if h.is_open), None)
    targets = forward_targets(current)
    handled = {d for h in handoffs for d in (h.from_department_id, h.to_department_id) if d is not None}
    events = list(
        CaseEvent.objects.filter(case=case).select_related("actor", "department").order_by("created_at", "pk")
    )
    by_id = {h.pk: h for h in handoffs}
    timeline = [
        TimelineEntry(
            event=event,
            summary=event_summary(event, by_id.get(event.handoff_id)),
            department_label=localized_name(event.department),
            actor_label=user_label(event.actor),
        )
        for event in events
    ]
    rows = [
        HandoffRow(
            handoff=h,
            from_label=localized_name(h.from_department) if h.from_department else _("intake"),
            to_label=localized_name(h.to_department),
            stage_label=localized_name(h.to_stage) if h.to_stage else str(Handoff.Kind(h.kind).label),
            badge_label=str(SLA_BADGE_LABELS[h.sla.badge]),
            time_left=format_time_left(h.sla.business_seconds_left),
            to_accept=format_business_seconds(h.seconds_to_accept),
            to_complete=format_business_seconds(h.seconds_to_complete),
            assignee_label=user_label(h.assignee),
            note=handoff_note_text(h.note),
        )
        for h in handoffs
    ]
    days_left = None
    if case.regulatory_deadline is not None and case.status in (Case.Status.OPEN, Case.Status.IN_PROGRESS):
        days_left = (case.regulatory_deadline - timezone.localdate(now)).days
    return CasePage(
        case=case,
        process_label=localized_name(case.process),
        stage_label=localized_name(case.current_stage),
        department_label=localized_name(case.current_department),
        customer=customer(case, user),
        handoffs=rows,
        open_handoff=current,
        current=next((row for row in rows if row.handoff is current), None) if current else None,
        forward_targets=targets,
        timeline=timeline,
        actions=allowed_actions(
            user,
            case,
            current,
            handled_department_ids=handled,
            has_forward_targets=bool(targets),
            now=now,
        ),
        regulatory_days_left=days_left,
        now=now,
    )


# -- readable timeline lines ----------------------------------------------------------------------
def _when(value: str | None) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(moment) else value


def _day(value: str | None) -> str:
    if not value:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return value


def _verdict(within: bool | None) -> str:
    if within is None:
        return ""
    return _("within target") if within else _("late")


def _choice(choices, value) -> str:
    return str(dict(choices).get(value, value or ""))


def _clock_label(clock: str | None) -> str:
    return str(_("resolution")) if clock == "resolution" else str(_("response"))


def _created(event, p, handoff):
    return _("Opened via %(channel)s, priority %(priority)s.") % {
        "channel": _choice(Case.Channel.choices, p.get("channel")),
        "priority": _choice(Priority.choices, p.get("priority")),
    }


def _requested(event, p, handoff):
    if handoff is not None:
        target = localized_name(handoff.to_department)
        if handoff.to_stage is not None:
            target = f"{target} · {localized_name(handoff.to_stage)}"
    else:
        target = " · ".join(x for x in (p.get("to_department"), p.get("to_stage")) if x)
    text = _("To %(target)s; response due %(due)s.") % {
        "target": target,
        "due": _when(p.get("response_due_at")),
    }
    note = handoff_note_text(p.get("note"))
    return f"{text} {note}" if note else text


def _took(event, p, handoff):
    return _("After %(time)s of business time (%(verdict)s).") % {
        "time": format_business_seconds(p.get("business_seconds")),
        "verdict": _verdict(p.get("within_target")),
    }


def _returned(event, p, handoff):
    target = localized_name(handoff.from_department) if handoff is not None else p.get("to_department")
    return _("Returned to %(department)s: %(reason)s") % {
        "department": target or "",
        "reason": p.get("reason", ""),
    }


def _claimed(event, p, handoff):
    if p.get("assigned_to"):
        return _("Assigned by the lead to %(user)s.") % {"user": p["assigned_to"]}
    return _("Taken on personally: the handoff is theirs to finish.")


def _paused(event, p, handoff):
    text = _choice(PauseSegment.Cause.choices, p.get("cause"))
    return f"{text}: {p['note']}" if p.get("note") else text


def _resumed(event, p, handoff):
    return _("Paused for %(time)s of business time; resolution now due %(due)s.") % {
        "time": format_business_seconds(p.get("paused_business_seconds")),
        "due": _when(p.get("resolution_due_at")),
    }


def _department_of(event, p, handoff) -> str:
    if handoff is not None:
        return localized_name(handoff.to_department)
    return localized_name(event.department) if event.department_id else p.get("to_department", "")


def _due_soon(event, p, handoff):
    if p.get("clock") == "resolution":
        return _("Most of the resolution time is used: %(department)s should finish soon.") % {
            "department": _department_of(event, p, handoff)
        }
    return _("Most of the response time is used: %(department)s should accept soon.") % {
        "department": _department_of(event, p, handoff)
    }


def _breached(event, p, handoff):
    if p.get("clock") == "resolution":
        return _("The resolution target was missed: %(department)s did not finish in time.") % {
            "department": _department_of(event, p, handoff)
        }
    return _("The response target was missed: %(department)s did not accept in time.") % {
        "department": _department_of(event, p, handoff)
    }


def _escalated(event, p, handoff):
    if p.get("level") == 2:
        return _("Escalated to level 2: the parent department's leads and the quality office are told.")
    return _("Escalated to level 1: the leads of %(department)s are told.") % {
        "department": _department_of(event, p, handoff)
    }


def _comment(event, p, handoff):
    return p.get("text", "")


def _resolved(event, p, handoff):
    parts = [_choice(Case.Recovery.choices, p.get("recovery_measure"))]
    if p.get("compensation_amount"):
        parts.append(_("amount %(amount)s") % {"amount": p["compensation_amount"]})
    parts.append(p.get("resolution", ""))
    return " · ".join(x for x in parts if x)


def _compensation(event, p, handoff):
    text = _("amount %(amount)s") % {"amount": p.get("amount", "")}
    return f"{text} · {p['note']}" if p.get("note") else text


def _closed(event, p, handoff):
    return _("closed automatically") if p.get("automatic") else _("Closed after the call-back.")


def _reason(event, p, handoff):
    return p.get("reason", "")


def _extended(event, p, handoff):
    return _("%(previous)s → %(deadline)s (+%(days)s days): %(reason)s") % {
        "previous": _day(p.get("previous")),
        "deadline": _day(p.get("deadline")),
        "days": p.get("days", ""),
        "reason": p.get("reason", ""),
    }


def _customer_told(event, p, handoff):
    return _("Customer told via %(channel)s.") % {"channel": _choice(Case.Channel.choices, p.get("channel"))}


def _feedback(event, p, handoff):
    parts = []
    if p.get("csat") is not None:
        parts.append(_("satisfaction %(csat)s of 5") % {"csat": p["csat"]})
    if p.get("nps") is not None:
        parts.append(_("would recommend %(nps)s of 10") % {"nps": p["nps"]})
    if not parts:
        return _("The customer answered the survey.")
    return _("The customer answered the survey: %(answers)s.") % {
        "answers": " · ".join(str(x) for x in parts)
    }


def _attachment(event, p, handoff):
    return _("File added: %(name)s (%(size)s bytes).") % {
        "name": p.get("name", ""),
        "size": p.get("size", ""),
    }


def _linked(event, p, handoff):
    sentences = {
        ("duplicate_of", True): _("Case %(other)s was closed into this case as its duplicate."),
        ("child_of", True): _("Case %(other)s was linked as a child of this case."),
        ("child_of", False): _("Linked as a child of case %(other)s."),
    }
    sentence = sentences.get((p.get("link"), bool(p.get("inbound"))), _("Linked to case %(other)s."))
    return sentence % {"other": p.get("other", "")}


def _closed_as_duplicate(event, p, handoff):
    return _("Closed as a duplicate of case %(primary)s.") % {"primary": p.get("primary", "")}


_Kind = CaseEvent.Kind
# One sentence per kind of event, from its payload. tests/processes_admin/test_timeline_sentences.py
# fails when a kind is missing here and its raw payload would show instead.
EVENT_SENTENCES = {
    _Kind.CREATED: _created,
    _Kind.HANDOFF_REQUESTED: _requested,
    _Kind.HANDOFF_ACCEPTED: _took,
    _Kind.HANDOFF_COMPLETED: _took,
    _Kind.HANDOFF_RETURNED: _returned,
    _Kind.HANDOFF_CLAIMED: _claimed,
    _Kind.HANDOFF_CANCELLED: _reason,
    _Kind.PAUSED: _paused,
    _Kind.RESUMED: _resumed,
    _Kind.COMMENT: _comment,
    _Kind.DUE_SOON: _due_soon,
    _Kind.BREACHED: _breached,
    _Kind.ESCALATED: _escalated,
    _Kind.COMPENSATION_REQUESTED: _compensation,
    _Kind.COMPENSATION_APPROVED: _compensation,
    _Kind.COMPENSATION_REJECTED: _compensation,
    _Kind.RESOLVED: _resolved,
    _Kind.CLOSED: _closed,
    _Kind.REOPENED: _reason,
    _Kind.CANCELLED: _reason,
    _Kind.DEADLINE_EXTENDED: _extended,
    _Kind.CUSTOMER_NOTIFIED: _customer_told,
    _Kind.FEEDBACK_RECEIVED: _feedback,
    _Kind.ATTACHMENT_ADDED: _attachment,
    _Kind.LINKED: _linked,
    _Kind.CLOSED_AS_DUPLICATE: _closed_as_duplicate,
}


def raw_payload_text(payload: dict) -> str:
    return "; ".join(f"{key}: {value}" for key, value in payload.items() if value not in (None, ""))


def event_summary(event: CaseEvent, handoff: Handoff | None = None) -> str:
    """One line saying what an event recorded, from its payload (the handoff when it has one)."""
    p = event.payload or {}
    sentence = EVENT_SENTENCES.get(event.kind)
    if sentence is None:  # a kind added without its sentence: better its facts than nothing
        return raw_payload_text(p)
    return str(sentence(event, p, handoff))
