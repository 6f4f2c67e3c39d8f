"""case_cancel: an open case is withdrawn by the department holding it."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, PermissionDenied, StateConflict
from processes import services
from processes.models import Case, CaseEvent, Handoff, PauseSegment

from .support import event_kinds, open_handoff, snapshot


def test_cancelling_an_open_case_cancels_its_intake(story, call_center_agent):
    case = story.open()
    intake = open_handoff(case)
    at = story.tick()

    services.case_cancel(case=case, actor=call_center_agent, reason="  Duplicate of CMP-1  ", at=at)

    case.refresh_from_db()
    intake.refresh_from_db()
    assert case.status == Case.Status.CANCELLED
    assert case.cancelled_at == at
    assert intake.status == Handoff.Status.CANCELLED
    assert event_kinds(case)[-1] == CaseEvent.Kind.CANCELLED
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.CANCELLED)
    assert (event.actor, event.department.code, event.payload) == (
        call_center_agent,
        "CALL_CENTER",
        {"reason": "Duplicate of CMP-1"},
    )


def test_cancelling_a_paused_case_ends_the_pause(story, card_center_agent):
    case = story.at_card_center()
    handoff = open_handoff(case)
    services.handoff_pause(handoff=handoff, actor=card_center_agent, cause="customer", at=story.tick())

    services.case_cancel(case=case, actor=card_center_agent, reason="customer withdrew", at=story.tick())

    handoff.refresh_from_db()
    assert (handoff.status, handoff.paused_at) == (Handoff.Status.CANCELLED, None)
    assert PauseSegment.objects.get(handoff=handoff).ended_at == story.now


# -- wrong states -------------------------------------------------------------------------------
def _resolved(story):
    return story.resolved(), "call_center_agent"


def _closed(story):
    return story.closed(), "call_center_agent"


def _cancelled(story):
    case = story.open()
    services.case_cancel(
        case=case, actor=story.user("call_center_agent"), reason="duplicate", at=story.tick()
    )
    return case, "call_center_agent"


@pytest.mark.parametrize("scene", [_resolved, _closed, _cancelled])
def test_only_an_open_case_can_be_cancelled(story, scene):
    case, username = scene(story)
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.case_cancel(case=case, actor=story.user(username), reason="oops", at=story.tick())

    assert refused.value.code == "case_not_open"
    assert snapshot(case) == before


# -- missing rights and input -------------------------------------------------------------------
def test_only_the_department_holding_the_case_may_cancel_it(story):
    case = story.at_card_center()
    before = snapshot(case)

    for username in ["call_center_agent", "it_agent", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            services.case_cancel(case=case, actor=story.user(username), reason="oops", at=story.tick())
        assert refused.value.code == "not_your_department", username
        assert snapshot(case) == before, username


def test_a_cancellation_needs_a_reason(story, call_center_agent):
    case = story.open()
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_cancel(case=case, actor=call_center_agent, reason="")

    assert refused.value.code == "reason_required"
    assert snapshot(case) == before
