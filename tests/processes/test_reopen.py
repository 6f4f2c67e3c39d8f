"""case_reopen: within the process's window, back to the department that resolved the case."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import InvalidInput, PermissionDenied, StateConflict
from processes import services
from processes.models import Case, CaseEvent, Handoff

from .support import event_kinds, open_handoff, snapshot

Kind = CaseEvent.Kind


def test_a_closed_case_reopens_at_the_department_that_resolved_it(story, call_center_agent):
    # Given a complaint resolved by the card center and closed by the call center
    case = story.closed()
    at = story.tick()

    # When the call center reopens it because the customer calls again
    services.case_reopen(case=case, actor=call_center_agent, reason="  Fee charged again  ", at=at)

    # Then the case is in progress again, back at the card center's investigation
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS
    assert case.reopen_count == 1
    assert (case.resolved_at, case.closed_at) == (None, None)
    assert (case.current_department.code, case.current_stage.code) == ("CARD_CENTER", "INVESTIGATE_CARD")
    handoff = open_handoff(case)
    assert handoff.status == Handoff.Status.PENDING
    assert (handoff.from_department.code, handoff.from_stage.code) == ("CALL_CENTER", "CALL_BACK")
    assert (handoff.to_department.code, handoff.to_stage.code) == ("CARD_CENTER", "INVESTIGATE_CARD")
    assert (handoff.requested_by, handoff.note) == (call_center_agent, "Fee charged again")
    assert event_kinds(case)[-2:] == [Kind.REOPENED, Kind.HANDOFF_REQUESTED]
    reopened = CaseEvent.objects.get(case=case, kind=Kind.REOPENED)
    assert (reopened.actor, reopened.department.code, reopened.created_at) == (
        call_center_agent,
        "CARD_CENTER",
        at,
    )
    assert reopened.payload == {"reason": "Fee charged again", "reopen_count": 1}


def test_reopening_a_resolved_case_cancels_its_pending_call_back(story, card_center_agent):
    case = story.resolved()
    call_back = open_handoff(case)

    services.case_reopen(case=case, actor=card_center_agent, reason="wrong refund", at=story.tick())

    call_back.refresh_from_db()
    assert call_back.status == Handoff.Status.CANCELLED
    assert open_handoff(case).to_department.code == "CARD_CENTER"
    assert event_kinds(case)[-3:] == [Kind.HANDOFF_CANCELLED, Kind.REOPENED, Kind.HANDOFF_REQUESTED]


def test_a_case_can_be_reopened_again_after_it_is_resolved_again(story, call_center_agent):
    case = story.closed()
    services.case_reopen(case=case, actor=call_center_agent, reason="again", at=story.tick())
    story.accept(case, "card_center_agent")
    story.resolve(case)

    services.case_reopen(case=case, actor=call_center_agent, reason="and again", at=story.tick())

    case.refresh_from_db()
    assert case.reopen_count == 2


def test_the_last_day_of_the_window_still_reopens(story, call_center_agent, complaint):
    case = story.closed()
    case.refresh_from_db()
    last_moment = case.resolved_at + timedelta(days=complaint.reopen_window_days)

    services.case_reopen(case=case, actor=call_center_agent, reason="late", at=last_moment)

    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS


@pytest.mark.parametrize("after", [timedelta(seconds=1), timedelta(days=1), timedelta(days=400)])
def test_after_the_window_the_case_stays_closed(story, call_center_agent, complaint, after):
    case = story.closed()
    case.refresh_from_db()
    before = snapshot(case)
    too_late = case.resolved_at + timedelta(days=complaint.reopen_window_days) + after

    with pytest.raises(StateConflict) as refused:
        services.case_reopen(case=case, actor=call_center_agent, reason="late", at=too_late)

    assert refused.value.code == "reopen_window_closed"
    assert snapshot(case) == before


# -- wrong states -------------------------------------------------------------------------------
def _in_progress(story):
    return story.at_card_center()


def _awaiting_approval(story):
    return story.awaiting_approval()


def _cancelled(story):
    case = story.at_card_center()
    services.case_cancel(
        case=case, actor=story.user("card_center_agent"), reason="withdrawn", at=story.tick()
    )
    return case


@pytest.mark.parametrize("scene", [_in_progress, _awaiting_approval, _cancelled])
def test_only_a_resolved_or_closed_case_can_be_reopened(story, call_center_agent, scene):
    case = scene(story)
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.case_reopen(case=case, actor=call_center_agent, reason="again", at=story.tick())

    assert refused.value.code == "case_not_resolved"
    assert snapshot(case) == before


# -- missing rights and input -------------------------------------------------------------------
@pytest.mark.parametrize("username", ["card_center_agent", "call_center_lead", "quality_officer"])
def test_any_department_that_handled_the_case_may_reopen_it(story, username):
    case = story.closed()

    services.case_reopen(case=case, actor=story.user(username), reason="again", at=story.tick())

    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS


def test_a_department_the_case_never_reached_may_not_reopen_it(story):
    case = story.closed()
    before = snapshot(case)

    for username in ["auditor", "it_agent", "risk_agent"]:
        with pytest.raises(PermissionDenied) as refused:
            services.case_reopen(case=case, actor=story.user(username), reason="again", at=story.tick())
        assert refused.value.code == "not_your_case", username
        assert snapshot(case) == before, username


def test_a_reopen_needs_a_reason(story, call_center_agent):
    case = story.closed()
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_reopen(case=case, actor=call_center_agent, reason=" ", at=story.tick())

    assert refused.value.code == "reason_required"
    assert snapshot(case) == before
