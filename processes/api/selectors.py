"""Reads of the API, always within the caller's department scope (processes.policy).

Each list selector returns a queryset with everything its serializer touches joined or prefetched,
so a page costs the same number of queries at 10 rows as at 200. `page_context` is the Sentry-style
`get_attrs`: what the output serializers need for a whole page (calendars, the clock, PII right),
loaded once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from core.errors import NotFound
from departments import policy as dept_policy
from departments.models import Department, Membership
from processes import policy
from processes.clock import ScheduleCache
from processes.models import Case, CaseEvent, Handoff, ServiceProcess, Stage, Transition

# -- cases ------------------------------------------------------------------------------------------
_OPEN_HANDOFF_RELATED = ("from_department", "to_department", "to_stage", "assignee")


def _with_case_relations(cases: QuerySet[Case]) -> QuerySet[Case]:
    open_handoffs = Handoff.objects.filter(status__in=Handoff.OPEN_STATUSES).select_related(
        *_OPEN_HANDOFF_RELATED
    )
    return cases.select_related("process", "current_stage", "current_department").prefetch_related(
        Prefetch("handoffs", queryset=open_handoffs, to_attr="open_handoffs")
    )


def case_list(*, user) -> QuerySet[Case]:
    return _with_case_relations(policy.visible_cases(user))


def case_get(*, user, reference: str) -> Case:
    """One case with its open handoff; NotFound (404) when it lies outside the caller's scope."""
    case = _with_case_relations(policy.visible_cases(user)).filter(reference=reference).first()
    if case is None:
        raise NotFound(f"No case {reference} in your departments.", code="not_found")
    return case


def case_in_scope(*, user, reference: str) -> Case:
    """The bare case row for a state change; the service locks and re-reads it."""
    case = policy.visible_cases(user).filter(reference=reference).first()
    if case is None:
        raise NotFound(f"No case {reference} in your departments.", code="not_found")
    return case


def case_as_published(*, case_id: int) -> Case:
    """A case with what its public representation needs, whoever asks (webhook bodies)."""
    return _with_case_relations(Case.objects.filter(pk=case_id)).get()


def case_for_opener(*, user, case_id: int) -> Case | None:
    """The case an intake call answers with (the opener always sees what it opened)."""
    return _with_case_relations(policy.visible_cases(user).filter(pk=case_id)).first()


def open_handoffs_of(cases: Iterable[Case]) -> list[Handoff]:
    return [h for case in cases for h in getattr(case, "open_handoffs", ())]


# -- handoffs ---------------------------------------------------------------------------------------
def _with_handoff_relations(handoffs: QuerySet[Handoff]) -> QuerySet[Handoff]:
    return handoffs.select_related("case", *_OPEN_HANDOFF_RELATED)


def handoff_list(*, user) -> QuerySet[Handoff]:
    return _with_handoff_relations(policy.visible_handoffs(user))


def handoff_get(*, user, handoff_id: int) -> Handoff:
    handoff = _with_handoff_relations(policy.visible_handoffs(user)).filter(pk=handoff_id).first()
    if handoff is None:
        raise NotFound(f"No handoff {handoff_id} in your departments.", code="not_found")
    return handoff


def handoffs_due_before(handoffs: QuerySet[Handoff], moment: datetime) -> QuerySet[Handoff]:
    """The clock that runs decides: response for pending, resolution otherwise."""
    return handoffs.filter(
        Q(status=Handoff.Status.PENDING, response_due_at__lt=moment)
        | (~Q(status=Handoff.Status.PENDING) & Q(resolution_due_at__lt=moment))
    )


def handoffs_breached(handoffs: QuerySet[Handoff], breached: bool) -> QuerySet[Handoff]:
    q = Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False)
    return handoffs.filter(q if breached else ~q)


# -- timeline ---------------------------------------------------------------------------------------
def event_list(*, case: Case) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case=case).select_related("actor", "department")


# -- reference data ---------------------------------------------------------------------------------
def department_list(*, user) -> QuerySet[Department]:
    members = Membership.objects.select_related("user").order_by("role", "user__username")
    return (
        dept_policy.visible_departments(user)
        .select_related("parent", "calendar")
        .prefetch_related(Prefetch("memberships", queryset=members))
    )


def department_get(*, user, code: str) -> Department:
    department = department_list(user=user).filter(code=code).first()
    if department is None:
        raise NotFound(f"No department {code} in your scope.", code="not_found")
    return department


def process_list() -> QuerySet[ServiceProcess]:
    stages = Stage.objects.select_related("department").prefetch_related("targets")
    transitions = Transition.objects.select_related("from_stage", "to_stage")
    return ServiceProcess.objects.select_related(
        "compensation_approver", "second_extension_approver"
    ).prefetch_related(Prefetch("stages", queryset=stages), Prefetch("transitions", queryset=transitions))


def process_get(*, code: str) -> ServiceProcess:
    process = process_list().filter(code=code).first()
    if process is None:
        raise NotFound(f"No process {code}.", code="not_found")
    return process


# -- what a page of output needs, loaded once ------------------------------------------------------
def page_context(*, user, handoffs: Iterable[Handoff], now: datetime | None = None) -> dict[str, Any]:
    """Serializer context for cases and handoffs: every receiving calendar preloaded in one go
    (three queries however many rows), one `now` for the whole page, and the PII right."""
    handoffs = list(handoffs)
    schedules = ScheduleCache()
    schedules.preload({h.to_department.calendar_id for h in handoffs})
    return {
        "schedules": schedules,
        "now": now or timezone.now(),
        "see_pii": policy.can_see_pii(user),
    }
