"""The guard of every case and handoff action, written once.

Each `can_<action>` looks only at the state of rows the caller already holds (the locked case, its
open handoff) and returns the refusal the action would raise (a StateConflict, or a PermissionDenied
where who may act depends on the state) or None when the action is allowed. It runs no query.

Two readers, one rule:
- the services in processes.services call `refuse(rules.can_<action>(...))` after locking the rows and
  checking the actor's department, so the error raised is the one written here;
- processes.selectors.allowed_actions offers an action exactly when its `@offers` below says yes (the
  department the user acts for and the action's rule), so the admin and the API never offer what the
  service would refuse.

The sentences of the codes raised here are declared here too (`core.messages.declare`), in the one
table that the API and the admin read.

Adding a state change: its action name, its `can_<action>` and its `@offers` here, with the sentences
of its new codes; the service calls the rule (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError, PermissionDenied, StateConflict
from core.messages import declare
from departments import policy as dept_policy
from processes.models import Case, Handoff

if TYPE_CHECKING:
    from processes.selectors import Asking

OPEN_CASE = (Case.Status.OPEN, Case.Status.IN_PROGRESS)


class Action:
    """Names of the actions of the case page and the API; each is one service function."""

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
    TRANSFER = "transfer"


@dataclass(frozen=True)
class Offer:
    action: str
    order: int  # its place on the case page
    test: Callable[[Asking], bool]


OFFERS: dict[str, Offer] = {}


def offers(action: str, *, order: int) -> Callable[[Callable[[Asking], bool]], Callable[[Asking], bool]]:
    """Declare when `action` is offered: the decorated function gets the question
    (`processes.selectors.Asking`: the user, the case, its open handoff, which departments the user
    acts for) and answers with the action's rule, as its service would."""

    def register(test: Callable[[Asking], bool]) -> Callable[[Asking], bool]:
        if action in OFFERS:
            raise ValueError(f"the action {action!r} is offered twice")
        OFFERS[action] = Offer(action, order, test)
        return test

    return register


def actions_in_order() -> list[str]:
    """Every action, in the case page's order."""
    return [offer.action for offer in sorted(OFFERS.values(), key=lambda offer: offer.order)]


declare(
    handoff_not_pending=_("Only a pending handoff can be accepted."),
    handoff_not_open=_("The handoff is not open."),
    nothing_to_return_to=_("The intake handoff has no sender to return to."),
    handoff_is_approval=_("A compensation approval is decided, not returned or forwarded."),
    handoff_not_accepted=_("Accept the handoff first."),
    handoff_already_claimed=_("Someone else has claimed this handoff."),
    handoff_paused=_("The handoff is already paused."),
    handoff_not_paused=_("The handoff is not paused."),
    case_not_open=_("The case is not open."),
    awaiting_approval=_("The compensation is awaiting approval."),
    stage_cannot_resolve=_("This stage cannot resolve cases."),
    no_open_handoff=_("The case has no open handoff."),
    no_pending_approval=_("No compensation is awaiting approval."),
    case_not_resolved=_("The case is not resolved."),
    reopen_window_closed=_("The reopen window has passed."),
    no_regulatory_deadline=_("This case has no regulatory deadline."),
    not_lead=_("The first extension is approved by the current department's lead."),
    not_approver=_("The second extension needs the designated approving department."),
    no_more_extensions=_("The deadline has been extended twice already."),
)


def refuse(refusal: ApplicationError | None) -> None:
    """Raise the refusal of a rule, if any."""
    if refusal is not None:
        raise refusal


# -- handoff moves --------------------------------------------------------------------------------
def can_accept(handoff: Handoff) -> StateConflict | None:
    if handoff.status != Handoff.Status.PENDING:
        return StateConflict("Only a pending handoff can be accepted.", code="handoff_not_pending")
    return None


def can_return_handoff(handoff: Handoff) -> StateConflict | None:
    """The handoff's side of a return (the admin offers the return on this alone, so that on a
    resolved case's call-back the refusal below tells the user to reopen the case instead)."""
    if not handoff.is_open:
        return StateConflict("Only an open handoff can be returned.", code="handoff_not_open")
    if handoff.from_department_id is None:
        return StateConflict("The intake handoff has no sender to return to.", code="nothing_to_return_to")
    if handoff.kind != Handoff.Kind.ROUTING:
        return StateConflict("A compensation approval is decided, not returned.", code="handoff_is_approval")
    return None


def can_return(case: Case, handoff: Handoff) -> StateConflict | None:
    refusal = can_return_handoff(handoff)
    if refusal is not None:
        return refusal
    if case.status != Case.Status.IN_PROGRESS and case.status != Case.Status.OPEN:
        return StateConflict(
            "The case is resolved: reopen it instead of returning the call-back.", code="case_not_open"
        )
    return None


def can_forward(handoff: Handoff) -> StateConflict | None:
    """The handoff's side; the target stage and its route are the request's input."""
    if handoff.kind != Handoff.Kind.ROUTING:
        return StateConflict("A compensation approval is decided, not forwarded.", code="handoff_is_approval")
    if handoff.status != Handoff.Status.ACCEPTED:
        return StateConflict("Accept the handoff before forwarding it.", code="handoff_not_accepted")
    return None


def can_claim(handoff: Handoff, actor) -> StateConflict | None:
    """Claiming a handoff the actor holds already is allowed (and changes nothing)."""
    if not handoff.is_open:
        return StateConflict("Only an open handoff can be claimed.", code="handoff_not_open")
    if handoff.assignee_id is not None and handoff.assignee_id != actor.pk:
        return StateConflict("Someone else has claimed this handoff.", code="handoff_already_claimed")
    return None


def can_pause(handoff: Handoff) -> StateConflict | None:
    if handoff.status != Handoff.Status.ACCEPTED:
        return StateConflict("Only an accepted handoff can be paused.", code="handoff_not_accepted")
    if handoff.paused_at is not None:
        return StateConflict("The handoff is already paused.", code="handoff_paused")
    return None


def can_resume(handoff: Handoff) -> StateConflict | None:
    if handoff.paused_at is None:
        return StateConflict("The handoff is not paused.", code="handoff_not_paused")
    return None


def may_transfer(user, handoff: Handoff) -> PermissionDenied | None:
    """The handoff's assignee gives it away; the receiving department's lead (or whoever acts for every
    department) gives anyone's. Nobody else takes over a colleague's case."""
    if handoff.assignee_id is not None and handoff.assignee_id == user.pk:
        return None
    if dept_policy.leads(user, handoff.to_department_id):
        return None
    return PermissionDenied(
        "Only the department's lead or the handoff's assignee may transfer it.", code="transfer_not_allowed"
    )


def can_transfer(handoff: Handoff) -> StateConflict | None:
    if handoff.status != Handoff.Status.ACCEPTED:
        return StateConflict("Only an accepted handoff can be transferred.", code="handoff_not_accepted")
    return None


declare(transfer_not_allowed=_("Only the department's lead or the handoff's assignee transfers it."))


@offers(Action.TRANSFER, order=65)
def _offer_transfer(ask: Asking) -> bool:
    return (
        ask.acts_for_handoff
        and can_transfer(ask.handoff) is None
        and may_transfer(ask.user, ask.handoff) is None
    )


# -- case-level changes ---------------------------------------------------------------------------
def can_resolve(case: Case, handoff: Handoff) -> StateConflict | None:
    if case.status not in OPEN_CASE:
        return StateConflict("Only an open case can be resolved.", code="case_not_open")
    if handoff.kind != Handoff.Kind.ROUTING:
        return StateConflict("The compensation is awaiting approval.", code="awaiting_approval")
    if handoff.status != Handoff.Status.ACCEPTED:
        return StateConflict("Accept the handoff before resolving.", code="handoff_not_accepted")
    if handoff.to_stage is None or not handoff.to_stage.can_resolve:
        code = handoff.to_stage.code if handoff.to_stage is not None else "-"
        return StateConflict(f"Stage {code} cannot resolve cases.", code="stage_cannot_resolve")
    return None


def can_decide_compensation(handoff: Handoff | None) -> StateConflict | None:
    if handoff is None:
        return StateConflict("The case has no open handoff.", code="no_open_handoff")
    if handoff.kind != Handoff.Kind.APPROVAL:
        return StateConflict("No compensation is awaiting approval.", code="no_pending_approval")
    return None


def can_close(case: Case, handoff: Handoff | None, *, system: bool = False) -> StateConflict | None:
    """A resolved case; its call-back handoff accepted first, except when the system auto-closes."""
    if case.status != Case.Status.RESOLVED:
        return StateConflict("Only a resolved case can be closed.", code="case_not_resolved")
    if handoff is not None and handoff.status == Handoff.Status.PENDING and not system:
        return StateConflict("Accept the call-back handoff before closing.", code="handoff_not_accepted")
    return None


def can_reopen(case: Case, at: datetime) -> StateConflict | None:
    if case.status not in (Case.Status.RESOLVED, Case.Status.CLOSED):
        return StateConflict("Only a resolved or closed case can be reopened.", code="case_not_resolved")
    window = timedelta(days=case.process.reopen_window_days)
    if case.resolved_at is None or at - case.resolved_at > window:
        return StateConflict(
            f"The reopen window of {case.process.reopen_window_days} days has passed.",
            code="reopen_window_closed",
        )
    return None


def can_cancel(case: Case) -> StateConflict | None:
    if case.status not in OPEN_CASE:
        return StateConflict("Only an open case can be cancelled.", code="case_not_open")
    return None


def may_extend_deadline(user, case: Case) -> PermissionDenied | None:
    """Who may extend depends only on how often the deadline was extended: the first extension by the
    current department's lead, the second by the process's designated approving department."""
    approver = case.process.second_extension_approver_id
    if case.regulatory_extensions == 0 or (case.regulatory_extensions > 1 and approver is None):
        if not dept_policy.leads(user, case.current_department_id):
            return PermissionDenied(
                "The first extension is approved by the department lead.", code="not_lead"
            )
    elif approver is None or not dept_policy.acts_for(user, approver):
        return PermissionDenied(
            "The second extension needs the designated approving department.", code="not_approver"
        )
    return None


def can_extend_deadline(case: Case) -> StateConflict | None:
    if case.regulatory_deadline is None:
        return StateConflict("This case has no regulatory deadline.", code="no_regulatory_deadline")
    if case.status not in OPEN_CASE:
        return StateConflict("Only an open case can be extended.", code="case_not_open")
    if case.regulatory_extensions > 1:
        return StateConflict("The deadline has been extended twice already.", code="no_more_extensions")
    return None


# -- what the case page and the API offer, in the page's order -------------------------------------
# Handoff actions are offered to those who act for the receiving department; the rest as noted.
def _on_handoff(rule: Callable[[Handoff], ApplicationError | None]) -> Callable[[Asking], bool]:
    """Offered to those who act for the receiving department when the handoff's own rule allows it."""
    return lambda ask: ask.acts_for_handoff and rule(ask.handoff) is None


# A return is offered on the handoff's rule alone: on a resolved case the service's refusal says to
# reopen instead.
for _action, _order, _rule in (
    (Action.ACCEPT, 10, can_accept),
    (Action.RESUME, 30, can_resume),
    (Action.PAUSE, 40, can_pause),
    (Action.DECIDE_COMPENSATION, 70, can_decide_compensation),
    (Action.RETURN, 80, can_return_handoff),
):
    offers(_action, order=_order)(_on_handoff(_rule))


@offers(Action.CLAIM, order=20)
def _offer_claim(ask: Asking) -> bool:
    """Not when the user holds it already: that would change nothing."""
    return (
        ask.acts_for_handoff and ask.handoff.assignee_id is None and can_claim(ask.handoff, ask.user) is None
    )


@offers(Action.FORWARD, order=50)
def _offer_forward(ask: Asking) -> bool:
    """Not when no route leads on."""
    return ask.acts_for_handoff and can_forward(ask.handoff) is None and ask.has_forward_targets


@offers(Action.RESOLVE, order=60)
def _offer_resolve(ask: Asking) -> bool:
    return ask.acts_for_handoff and can_resolve(ask.case, ask.handoff) is None


@offers(Action.CLOSE, order=90)
def _offer_close(ask: Asking) -> bool:
    """By the department the call-back waits at (the current one when none is open)."""
    if can_close(ask.case, ask.handoff) is not None:
        return False
    closer = ask.handoff.to_department_id if ask.handoff is not None else ask.case.current_department_id
    return ask.acts_for(closer)


@offers(Action.REOPEN, order=100)
def _offer_reopen(ask: Asking) -> bool:
    return ask.works_on_case and can_reopen(ask.case, ask.now) is None


@offers(Action.EXTEND_DEADLINE, order=110)
def _offer_extend_deadline(ask: Asking) -> bool:
    return can_extend_deadline(ask.case) is None and may_extend_deadline(ask.user, ask.case) is None


@offers(Action.CANCEL, order=120)
def _offer_cancel(ask: Asking) -> bool:
    return can_cancel(ask.case) is None and ask.acts_for(ask.case.current_department_id)


@offers(Action.COMMENT, order=130)
def _offer_comment(ask: Asking) -> bool:
    """Any department the case went through."""
    return ask.works_on_case
