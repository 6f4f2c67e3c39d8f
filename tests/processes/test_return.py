"""handoff_return: back to the sender with a reason; the bounce is charged to the returning side."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, PermissionDenied, StateConflict
from processes import services
from processes.models import Case, CaseEvent, Handoff, PauseSegment

from .support import event_kinds, open_handoff, snapshot


def test_returning_sends_the_case_back_to_the_sending_department(story, card_center_agent):
    # Given a complaint the call center forwarded to the card center, which accepted it
    case = story.at_card_center()
    handoff = open_handoff(case)
    at = story.tick()

    # When the card center returns it
    services.handoff_return(handoff=handoff, actor=card_center_agent, reason="  Lending product  ", at=at)

    # Then the card center's handoff is closed as returned, with who, when and why
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.RETURNED
    assert handoff.to_department.code == "CARD_CENTER"
    assert (handoff.returned_by, handoff.returned_at) == (card_center_agent, at)
    assert handoff.return_reason == "Lending product"
    assert handoff.seconds_to_complete is None
    # And a new handoff waits at the sender, at the stage it was sent from
    back = open_handoff(case)
    assert back.status == Handoff.Status.PENDING
    assert (back.from_department.code, back.from_stage.code) == ("CARD_CENTER", "INVESTIGATE_CARD")
    assert (back.to_department.code, back.to_stage.code) == ("CALL_CENTER", "INTAKE")
    assert back.note == "Lending product"
    assert back.requested_by == card_center_agent
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS
    assert (case.current_department.code, case.current_stage.code) == ("CALL_CENTER", "INTAKE")
    # And the timeline shows the bounce
    assert event_kinds(case)[-2:] == [CaseEvent.Kind.HANDOFF_RETURNED, CaseEvent.Kind.HANDOFF_REQUESTED]
    returned = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.HANDOFF_RETURNED)
    assert (returned.handoff, returned.actor, returned.department.code) == (
        handoff,
        card_center_agent,
        "CARD_CENTER",
    )
    assert returned.payload == {"reason": "Lending product", "to_department": "CALL_CENTER"}


def test_a_pending_handoff_can_be_returned_without_accepting_it(story, card_center_agent):
    case = story.at_card_center(accepted=False)
    handoff = open_handoff(case)

    services.handoff_return(handoff=handoff, actor=card_center_agent, reason="not ours", at=story.tick())

    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.RETURNED
    assert handoff.seconds_to_accept is None
    assert open_handoff(case).to_department.code == "CALL_CENTER"


def test_returning_a_paused_handoff_ends_its_pause(story, card_center_agent):
    case = story.at_card_center()
    handoff = open_handoff(case)
    services.handoff_pause(handoff=handoff, actor=card_center_agent, cause="customer", at=story.tick())

    services.handoff_return(handoff=handoff, actor=card_center_agent, reason="not ours", at=story.tick())

    segment = PauseSegment.objects.get(handoff=handoff)
    assert segment.ended_at == story.now
    handoff.refresh_from_db()
    assert handoff.paused_at is None


# -- wrong states -------------------------------------------------------------------------------
def test_the_intake_handoff_has_no_sender_to_return_to(story, call_center_agent):
    case = story.open()
    story.accept(case, "call_center_agent")
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_return(
            handoff=open_handoff(case), actor=call_center_agent, reason="x", at=story.tick()
        )

    assert refused.value.code == "nothing_to_return_to"
    assert snapshot(case) == before


def test_a_returned_handoff_cannot_be_returned_again(story, card_center_agent):
    case = story.at_card_center()
    handoff = open_handoff(case)
    services.handoff_return(handoff=handoff, actor=card_center_agent, reason="not ours", at=story.tick())
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_return(handoff=handoff, actor=card_center_agent, reason="again", at=story.tick())

    assert refused.value.code == "handoff_not_open"
    assert snapshot(case) == before


def test_a_completed_handoff_cannot_be_returned(story, card_center_agent):
    case = story.at_card_center()
    story.forward(case, "RISK_REVIEW", "card_center_agent")
    completed = Handoff.objects.get(case=case, to_stage__code="INVESTIGATE_CARD")
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_return(handoff=completed, actor=card_center_agent, reason="x", at=story.tick())

    assert refused.value.code == "handoff_not_open"
    assert snapshot(case) == before


def test_a_compensation_approval_is_decided_not_returned(story, compliance_agent):
    case = story.awaiting_approval()
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_return(
            handoff=open_handoff(case), actor=compliance_agent, reason="too much", at=story.tick()
        )

    assert refused.value.code == "handoff_is_approval"
    assert snapshot(case) == before


@pytest.mark.parametrize("accepted", [False, True])
def test_the_call_back_of_a_resolved_case_is_not_returned(story, call_center_agent, accepted):
    # A resolved case goes back through case_reopen, which cancels the call-back
    case = story.resolved()
    if accepted:
        story.accept(case, "call_center_agent")
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_return(
            handoff=open_handoff(case), actor=call_center_agent, reason="customer unhappy", at=story.tick()
        )

    assert refused.value.code == "case_not_open"
    assert snapshot(case) == before


# -- missing rights and input -------------------------------------------------------------------
def test_only_the_receiving_department_may_return(story):
    case = story.at_card_center()
    before = snapshot(case)

    for username in ["call_center_agent", "it_agent", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            services.handoff_return(
                handoff=open_handoff(case), actor=story.user(username), reason="x", at=story.tick()
            )
        assert refused.value.code == "not_your_department", username
        assert snapshot(case) == before, username


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_return_needs_a_reason(story, card_center_agent, reason):
    case = story.at_card_center()
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.handoff_return(handoff=open_handoff(case), actor=card_center_agent, reason=reason)

    assert refused.value.code == "reason_required"
    assert list(refused.value.extra["fields"]) == ["reason"]
    assert snapshot(case) == before
