"""handoff_claim: one person of the receiving department takes an open handoff."""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied, StateConflict
from processes import services
from processes.models import CaseEvent, Handoff

from .support import open_handoff, snapshot


def test_claiming_a_pending_handoff_assigns_it(story, card_center_agent):
    case = story.at_card_center(accepted=False)
    at = story.tick()

    handoff = services.handoff_claim(handoff=open_handoff(case), actor=card_center_agent, at=at)

    handoff.refresh_from_db()
    assert handoff.assignee == card_center_agent
    assert handoff.status == Handoff.Status.PENDING
    event = CaseEvent.objects.filter(case=case).last()
    assert event.kind == CaseEvent.Kind.HANDOFF_CLAIMED
    assert (event.handoff, event.actor, event.department.code, event.created_at) == (
        handoff,
        card_center_agent,
        "CARD_CENTER",
        at,
    )


def test_claiming_twice_is_a_no_op(story, card_center_agent):
    case = story.at_card_center(accepted=False)
    services.handoff_claim(handoff=open_handoff(case), actor=card_center_agent, at=story.tick())
    before = snapshot(case)

    again = services.handoff_claim(handoff=open_handoff(case), actor=card_center_agent, at=story.tick())

    assert again.assignee == card_center_agent
    assert snapshot(case) == before


def test_the_acceptor_already_holds_an_accepted_handoff(story, card_center_agent):
    case = story.at_card_center()
    before = snapshot(case)

    services.handoff_claim(handoff=open_handoff(case), actor=card_center_agent, at=story.tick())

    assert snapshot(case) == before


# -- wrong states -------------------------------------------------------------------------------
def test_a_handoff_claimed_by_a_colleague_cannot_be_claimed(story, card_center_agent, card_center_lead):
    case = story.at_card_center(accepted=False)
    services.handoff_claim(handoff=open_handoff(case), actor=card_center_agent, at=story.tick())
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_claim(handoff=open_handoff(case), actor=card_center_lead, at=story.tick())

    assert refused.value.code == "handoff_already_claimed"
    assert snapshot(case) == before


def test_a_handoff_accepted_by_a_colleague_cannot_be_claimed(story, card_center_lead):
    case = story.at_card_center()  # accepted by card_center_agent
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_claim(handoff=open_handoff(case), actor=card_center_lead, at=story.tick())

    assert refused.value.code == "handoff_already_claimed"
    assert snapshot(case) == before


@pytest.mark.parametrize("status", [Handoff.Status.COMPLETED, Handoff.Status.RETURNED])
def test_a_closed_handoff_cannot_be_claimed(story, card_center_agent, call_center_agent, status):
    case = story.at_card_center(accepted=False)
    handoff = open_handoff(case)
    if status == Handoff.Status.RETURNED:
        services.handoff_return(handoff=handoff, actor=card_center_agent, reason="not ours", at=story.tick())
        actor = card_center_agent
    else:
        handoff = Handoff.objects.get(case=case, to_stage__code="INTAKE")
        actor = call_center_agent
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_claim(handoff=handoff, actor=actor, at=story.tick())

    assert refused.value.code == "handoff_not_open"
    assert snapshot(case) == before


# -- missing rights -----------------------------------------------------------------------------
def test_only_the_receiving_department_may_claim(story):
    case = story.at_card_center(accepted=False)
    before = snapshot(case)

    for username in ["call_center_agent", "it_agent", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            services.handoff_claim(handoff=open_handoff(case), actor=story.user(username), at=story.tick())
        assert refused.value.code == "not_your_department", username
        assert snapshot(case) == before, username
