"""Reads of the process engine: scoped querysets with their joins applied, and the per-page work
(SLA badges, the allowed actions, readable timeline lines) done once for a whole page.

A page costs the same number of queries whatever the number of rows on it: every list below is one
query with `select_related`, the calendars of all its handoffs are loaded at once through one
`ScheduleCache`, and nothing here is looked up per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from django.db import models
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.text import localized_name
from departments import policy as dept_policy
from departments.models import Department
from processes import policy, rules
from processes.clock import ScheduleCache, format_business_seconds, format_time_left, sla_state
from processes.models import (
    Case,
    CaseEvent,
    Handoff,
    PauseSegment,
    ServiceProcess,
    Stage,
    Transition,
    handoff_note_text,
)
from processes.timeline_text import event_summary

# The due time of the clock that runs now: the response clock while pending, then the resolution clock.
CURRENT_DUE = models.Case(
    models.When(status=Handoff.Status.PENDING, then=F("response_due_at")),
    default=F("resolution_due_at"),
    output_field=models.DateTimeField(),
)


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
class Asking:
    """The question a rule's `@offers` answers (processes.rules): may `user` do it on `case` now?
    What needs a query (the departments the case went through, the routes on) is read once, when an
    offer first asks; a caller that has it already passes it."""

    def __init__(
        self,
        user,
        case: Case,
        handoff: Handoff | None,
        *,
        now: datetime,
        handled_department_ids: set[int] | None = None,
        has_forward_targets: bool | None = None,
    ) -> None:
        self.user, self.case, self.handoff, self.now = user, case, handoff, now
        self._handled = handled_department_ids
        self._has_forward_targets = has_forward_targets

    def acts_for(self, department_id: int | None) -> bool:
        return dept_policy.acts_for(self.user, department_id)

    @cached_property
    def acts_for_handoff(self) -> bool:
        """The user acts for the department the open handoff waits at."""
        return self.handoff is not None and self.acts_for(self.handoff.to_department_id)

    @cached_property
    def works_on_case(self) -> bool:
        """The user acts for a department the case went through (as `policy.require_works_on_case`)."""
        if dept_policy.acts_for_all(self.user):
            return True
        if self._handled is None:
            self._handled = policy.handled_department_ids(self.case)
        return bool(dept_policy.acting_department_ids(self.user) & self._handled)

    @cached_property
    def has_forward_targets(self) -> bool:
        if self._has_forward_targets is None:
            self._has_forward_targets = bool(forward_targets(self.handoff))
        return self._has_forward_targets


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

    Each action is offered when its `@offers` in `processes.rules` says yes: the actor's department
    may act (`departments.policy.acts_for` / `processes.policy.require_works_on_case`, as in the
    service) and the action's rule returns no refusal. `handled_department_ids` and
    `has_forward_targets` can be passed by a caller that has them already, to save the queries.
    """
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    ask = Asking(
        user,
        case,
        handoff,
        now=now or timezone.now(),
        handled_department_ids=handled_department_ids,
        has_forward_targets=has_forward_targets,
    )
    return frozenset(offer.action for offer in rules.OFFERS.values() if offer.test(ask))


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
