"""A lead's assignment of handoffs, and bulk claim/assign: each item through its own service call
(its own transaction and lock), with a result per item. An item that someone else took meanwhile is
reported as such and left as they left it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from core.errors import ApplicationError, InvalidInput, PermissionDenied, StateConflict
from departments import policy as dept_policy
from departments.models import Membership
from processes import policy, services, writes
from processes.models import CaseEvent, Handoff
from processes.services import base as services_base

# A bulk action names at most this many handoffs (one page of the queue).
MAX_ITEMS = 100


@transaction.atomic
def handoff_assign(*, handoff: Handoff | int, actor, assignee, at: datetime | None = None) -> Handoff:
    """A lead of the receiving department gives the handoff to one of its members. A handoff that
    someone else has claimed or accepted is theirs: refused, never overwritten."""
    change, handoff = services_base._lock_handoff(handoff, actor, services_base._now(at))
    if not dept_policy.leads(actor, handoff.to_department_id):
        raise PermissionDenied(
            "Only a lead of the receiving department assigns its handoffs.", code="assign_needs_lead"
        )
    if not handoff.is_open:
        raise StateConflict("Only an open handoff can be assigned.", code="handoff_not_open")
    if handoff.assignee_id == assignee.pk:
        return handoff
    taken_by = handoff.accepted_by_id or handoff.assignee_id
    if taken_by is not None and taken_by != assignee.pk:
        raise StateConflict("Someone else has taken this handoff meanwhile.", code="handoff_taken")
    if not Membership.objects.filter(
        user_id=assignee.pk,
        department_id=handoff.to_department_id,
        department__is_active=True,
        user__is_active=True,
    ).exists():
        message = "The assignee is not a member of the receiving department."
        raise InvalidInput(message, code="assignee_not_member", extra={"fields": {"assignee": [message]}})
    handoff.assignee = assignee
    writes.update(handoff, ["assignee"])
    change.event(
        CaseEvent.Kind.HANDOFF_CLAIMED,
        department_id=handoff.to_department_id,
        handoff=handoff,
        assigned_to=assignee.get_username(),
    )
    change.flush()
    return handoff


@dataclass
class ItemResult:
    handoff_id: int
    reference: str
    ok: bool
    code: str  # "assigned", "claimed" or the error's code
    message: str


def _bulk(handoff_ids: list[int], run, actor) -> list[ItemResult]:
    ids = list(dict.fromkeys(int(i) for i in handoff_ids))[:MAX_ITEMS]
    # Only what the actor may read is named; any other id answers "not found", as the service does.
    visible = policy.visible_handoffs(actor).filter(pk__in=ids)
    references = dict(visible.values_list("pk", "case__reference"))
    results = []
    for handoff_id in ids:
        try:
            code = run(handoff_id)
        except ApplicationError as exc:
            results.append(
                ItemResult(handoff_id, references.get(handoff_id, ""), False, exc.code, exc.message)
            )
        else:
            results.append(ItemResult(handoff_id, references.get(handoff_id, ""), True, code, ""))
    return results


def handoffs_bulk_assign(*, handoff_ids: list[int], actor, assignee) -> list[ItemResult]:
    def run(handoff_id: int) -> str:
        handoff_assign(handoff=handoff_id, actor=actor, assignee=assignee)
        return "assigned"

    return _bulk(handoff_ids, run, actor)


def handoffs_bulk_claim(*, handoff_ids: list[int], actor) -> list[ItemResult]:
    def run(handoff_id: int) -> str:
        services.handoff_claim(handoff=handoff_id, actor=actor)
        return "claimed"

    return _bulk(handoff_ids, run, actor)


def may_assign(actor) -> bool:
    """Leads of a department, and whoever acts for all of them."""
    if not (actor.is_authenticated and actor.is_active):
        return False
    return (
        dept_policy.acts_for_all(actor)
        or Membership.objects.filter(user=actor, role=Membership.Role.LEAD).exists()
    )


def assignable_users(actor):
    """The members of the departments the actor leads (everyone's, for those acting for all)."""
    User = get_user_model()
    members = Membership.objects.filter(department__is_active=True)
    if not dept_policy.acts_for_all(actor):
        led = Membership.objects.filter(user=actor, role=Membership.Role.LEAD).values("department_id")
        members = members.filter(department_id__in=led)
    return User.objects.filter(is_active=True, pk__in=members.values("user_id")).order_by("username")
