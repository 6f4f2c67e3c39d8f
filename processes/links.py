"""Linked cases: a duplicate closed into its primary, and parent/child links.

Both cases are locked, always in the order of their ids (two people linking the same pair from
either end wait for each other instead of deadlocking), and each keeps its own timeline: the
duplicate records that it was closed into the primary, the primary that the duplicate joined it.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q

from core.errors import InvalidInput, NotFound, StateConflict
from processes import policy
from processes.models import Case, CaseEvent, CaseLink
from processes.services import base as services_base
from processes.services import cases as services_cases

Kind = CaseEvent.Kind


def _invalid(field: str, message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, extra={"fields": {field: [message]}})


def _id_of(case: Case | str) -> int:
    if isinstance(case, Case):
        return case.pk
    found = Case.objects.filter(reference=case).values_list("pk", flat=True).first()
    if found is None:
        raise NotFound(f"No case {case} in your departments.", code="not_found")
    return found


def _lock_pair(case: Case | str, target: Case | str, actor, at: datetime):
    """Both cases locked in id order; the first with its open handoff (the one that may change)."""
    if _id_of(case) == _id_of(target):
        raise _invalid("target", "A case cannot be linked to itself.", "link_to_itself")
    if _id_of(target) < _id_of(case):
        other = services_base._lock_case(target, actor)
        change, pending = services_base._lock_open(case, actor, at)
    else:
        change, pending = services_base._lock_open(case, actor, at)
        other = services_base._lock_case(target, actor)
    return change, pending, other


def _check_can_link(actor, case: Case, other: Case) -> None:
    services_base._require_works_on(actor, case, "link")
    if not other._works_on and not policy.visible_cases(actor).filter(pk=other.pk).exists():
        raise NotFound(f"No case {other.reference} in your departments.", code="not_found")


def _insert_link(case: Case, other: Case, kind: str, actor, at: datetime) -> CaseLink:
    link = CaseLink(case=case, target=other, kind=kind, created_by=services_base._user(actor), created_at=at)
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError as exc:
        raise StateConflict(f"The case already has a link of kind {kind}.", code="already_linked") from exc
    return link


def _primary_event(other: Case, case: Case, kind: str, actor, at: datetime) -> None:
    change = services_base._Change(other, at=at, actor=actor, stamp=other._stamp)
    change.event(
        Kind.LINKED, department_id=other.current_department_id, link=kind, other=case.reference, inbound=True
    )
    change.flush()


@transaction.atomic
def case_close_as_duplicate(
    *, case: Case | str, primary: Case | str, actor, at: datetime | None = None
) -> Case:
    """Close an open case into its primary: its open handoff is cancelled, its status is closed,
    and the KPIs leave its handoffs out (evaluations.kpis). The primary carries on."""
    at = services_base._now(at)
    change, pending, other = _lock_pair(case, primary, actor, at)
    case = change.case
    _check_can_link(actor, case, other)
    member = (
        pending._member
        if pending is not None and pending.to_department_id == case.current_department_id
        else None
    )
    policy.require_acts_for(actor, case.current_department_id, action="close", member=member)
    if case.status not in (Case.Status.OPEN, Case.Status.IN_PROGRESS):
        raise StateConflict("Only an open case can be closed as a duplicate.", code="case_not_open")
    if other.status == Case.Status.CANCELLED:
        raise StateConflict("A cancelled case cannot be the primary.", code="primary_cancelled")
    if CaseLink.objects.filter(case=other, kind=CaseLink.Kind.DUPLICATE_OF).exists():
        raise StateConflict("The primary is itself a duplicate.", code="primary_is_duplicate")
    _insert_link(case, other, CaseLink.Kind.DUPLICATE_OF, actor, at)
    services_cases._cancel_open(change, pending, "duplicate")
    case.status = Case.Status.CLOSED
    case.closed_at = at
    change.touch("status", "closed_at")
    change.event(Kind.CLOSED_AS_DUPLICATE, department_id=case.current_department_id, primary=other.reference)
    change.flush()
    _primary_event(other, case, CaseLink.Kind.DUPLICATE_OF, actor, at)
    return case


@transaction.atomic
def case_link_parent(*, case: Case | str, parent: Case | str, actor, at: datetime | None = None) -> CaseLink:
    """Make `case` a child of `parent` (a complaint split into parts, a follow-up). No state changes."""
    at = services_base._now(at)
    change, _pending, other = _lock_pair(case, parent, actor, at)
    case = change.case
    _check_can_link(actor, case, other)
    if CaseLink.objects.filter(case=other, target=case, kind=CaseLink.Kind.CHILD_OF).exists():
        raise StateConflict("The parent is a child of this case.", code="link_cycle")
    link = _insert_link(case, other, CaseLink.Kind.CHILD_OF, actor, at)
    change.event(
        Kind.LINKED,
        department_id=case.current_department_id,
        link=CaseLink.Kind.CHILD_OF,
        other=other.reference,
    )
    change.flush()
    _primary_event(other, case, CaseLink.Kind.CHILD_OF, actor, at)
    return link


# -- reads ------------------------------------------------------------------------------------------
def links_of(case: Case) -> list[dict]:
    """Both directions, in one query: what each case page and the API show."""
    rows = (
        CaseLink.objects.filter(Q(case=case) | Q(target=case))
        .select_related("case", "target")
        .order_by("created_at", "pk")
    )
    found = []
    for link in rows:
        outbound = link.case_id == case.pk
        other = link.target if outbound else link.case
        if link.kind == CaseLink.Kind.DUPLICATE_OF:
            role = "duplicate_of" if outbound else "has_duplicate"
        else:
            role = "child_of" if outbound else "parent_of"
        found.append({"role": role, "case": other, "created_at": link.created_at})
    return found
