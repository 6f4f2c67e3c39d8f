"""handoff_accept: a pending handoff is taken by its receiving department, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import NotFound, PermissionDenied, StateConflict
from processes import services
from processes.models import Case, CaseEvent, Handoff

from .support import open_handoff, snapshot


def test_accepting_the_intake_starts_work_on_the_case(story, call_center_agent):
    case = story.open()
    handoff = open_handoff(case)
    at = handoff.requested_at + timedelta(minutes=10)

    accepted = services.handoff_accept(handoff=handoff, actor=call_center_agent, at=at)

    accepted.refresh_from_db()
    case.refresh_from_db()
    assert accepted.status == Handoff.Status.ACCEPTED
    assert (accepted.accepted_by, accepted.accepted_at) == (call_center_agent, at)
    assert accepted.assignee == call_center_agent
    assert accepted.seconds_to_accept == 600
    assert case.status == Case.Status.IN_PROGRESS
    event = CaseEvent.objects.filter(case=case).last()
    assert event.kind == CaseEvent.Kind.HANDOFF_ACCEPTED
    assert (event.handoff, event.actor, event.department.code) == (accepted, call_center_agent, "CALL_CENTER")
    assert event.payload == {"business_seconds": 600, "within_target": True}


def test_a_late_acceptance_is_recorded_as_outside_the_target(story, call_center_agent):
    case = story.open()
    handoff = open_handoff(case)

    services.handoff_accept(
        handoff=handoff, actor=call_center_agent, at=handoff.requested_at + timedelta(minutes=20)
    )

    event = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.HANDOFF_ACCEPTED).get()
    assert event.payload == {"business_seconds": 1200, "within_target": False}


def test_accepting_a_later_handoff_keeps_the_case_in_progress(story, card_center_agent):
    case = story.at_card_center(accepted=False)

    services.handoff_accept(handoff=open_handoff(case), actor=card_center_agent, at=story.tick())

    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS
    assert open_handoff(case).accepted_by == card_center_agent


def test_a_claimed_handoff_stays_with_its_claimant_when_a_colleague_accepts(
    story, card_center_agent, card_center_lead
):
    case = story.at_card_center(accepted=False)
    services.handoff_claim(handoff=open_handoff(case), actor=card_center_agent, at=story.tick())

    services.handoff_accept(handoff=open_handoff(case), actor=card_center_lead, at=story.tick())

    handoff = open_handoff(case)
    assert (handoff.assignee, handoff.accepted_by) == (card_center_agent, card_center_lead)


def test_the_quality_office_may_accept_for_any_department(story, quality_officer):
    case = story.at_card_center(accepted=False)

    services.handoff_accept(handoff=open_handoff(case), actor=quality_officer, at=story.tick())

    assert open_handoff(case).status == Handoff.Status.ACCEPTED


# -- wrong states -------------------------------------------------------------------------------
def _already_accepted(story):
    case = story.at_card_center()
    return case, open_handoff(case), "card_center_agent"


def _completed(story):
    case = story.at_card_center()
    return case, Handoff.objects.get(case=case, to_stage__code="INTAKE"), "call_center_agent"


def _returned(story):
    case = story.at_card_center()
    services.handoff_return(
        handoff=open_handoff(case), actor=story.user("card_center_agent"), reason="not ours", at=story.tick()
    )
    return case, Handoff.objects.get(case=case, status=Handoff.Status.RETURNED), "card_center_agent"


def _cancelled(story):
    case = story.open()
    handoff = open_handoff(case)
    services.case_cancel(
        case=case, actor=story.user("call_center_agent"), reason="duplicate", at=story.tick()
    )
    return case, handoff, "call_center_agent"


@pytest.mark.parametrize("scene", [_already_accepted, _completed, _returned, _cancelled])
def test_only_a_pending_handoff_can_be_accepted(story, scene):
    case, handoff, username = scene(story)
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_accept(handoff=handoff, actor=story.user(username), at=story.tick())

    assert refused.value.code == "handoff_not_pending"
    assert snapshot(case) == before


# -- missing rights -----------------------------------------------------------------------------
def test_only_the_receiving_department_may_accept(story):
    case = story.at_card_center(accepted=False)
    before = snapshot(case)

    for username in ["call_center_agent", "risk_agent", "it_agent", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            services.handoff_accept(handoff=open_handoff(case), actor=story.user(username), at=story.tick())
        assert refused.value.code == "not_your_department", username
        assert snapshot(case) == before, username


def test_an_unknown_handoff_is_not_found(story, call_center_agent):
    with pytest.raises(NotFound):
        services.handoff_accept(handoff=Handoff(pk=987654), actor=call_center_agent)
