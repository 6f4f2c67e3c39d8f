"""case_close: the call-back department closes a resolved case; the system may auto-close it."""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied, StateConflict
from processes import services
from processes.models import Case, CaseEvent, Handoff

from .support import event_kinds, open_handoff, snapshot

Kind = CaseEvent.Kind


def test_the_call_center_closes_after_the_call_back(story, call_center_agent):
    # Given a resolved complaint whose call-back the call center accepted
    case = story.resolved()
    call_back = story.accept(case, "call_center_agent")
    at = story.tick()

    # When it closes the case
    services.case_close(case=case, actor=call_center_agent, at=at)

    # Then the case is closed and the call-back handoff completed
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert case.closed_at == at
    call_back.refresh_from_db()
    assert (call_back.status, call_back.completed_by, call_back.completed_at) == (
        Handoff.Status.COMPLETED,
        call_center_agent,
        at,
    )
    assert not case.handoffs.filter(status__in=Handoff.OPEN_STATUSES).exists()
    assert event_kinds(case)[-2:] == [Kind.HANDOFF_COMPLETED, Kind.CLOSED]
    closed = CaseEvent.objects.get(case=case, kind=Kind.CLOSED)
    assert (closed.actor, closed.department.code, closed.payload) == (
        call_center_agent,
        "CALL_CENTER",
        {"automatic": False},
    )


def test_a_case_resolved_without_call_back_is_closed_by_its_department(story, call_center_agent):
    case = story.open()
    story.accept(case, "call_center_agent")
    story.resolve(case, actor="call_center_agent")

    services.case_close(case=case, actor=call_center_agent, at=story.tick())

    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED


def test_the_system_closes_with_the_call_back_still_pending(story):
    case = story.resolved()
    call_back = open_handoff(case)
    at = story.tick()

    services.case_close(case=case, actor=None, system=True, at=at)

    case.refresh_from_db()
    call_back.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert call_back.status == Handoff.Status.COMPLETED
    assert call_back.accepted_at == at
    assert event_kinds(case)[-3:] == [Kind.HANDOFF_ACCEPTED, Kind.HANDOFF_COMPLETED, Kind.CLOSED]
    assert CaseEvent.objects.get(case=case, kind=Kind.CLOSED).payload == {"automatic": True}


# -- wrong states -------------------------------------------------------------------------------
def _in_progress(story):
    return story.at_card_center(), "card_center_agent", "case_not_resolved"


def _awaiting_approval(story):
    return story.awaiting_approval(), "compliance_agent", "case_not_resolved"


def _call_back_not_accepted(story):
    return story.resolved(), "call_center_agent", "handoff_not_accepted"


def _closed(story):
    return story.closed(), "call_center_agent", "case_not_resolved"


def _cancelled(story):
    case = story.open()
    services.case_cancel(
        case=case, actor=story.user("call_center_agent"), reason="duplicate", at=story.tick()
    )
    return case, "call_center_agent", "case_not_resolved"


@pytest.mark.parametrize(
    "scene", [_in_progress, _awaiting_approval, _call_back_not_accepted, _closed, _cancelled]
)
def test_only_a_resolved_case_with_its_call_back_accepted_can_be_closed(story, scene):
    case, username, code = scene(story)
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.case_close(case=case, actor=story.user(username), at=story.tick())

    assert refused.value.code == code
    assert snapshot(case) == before


# -- missing rights -----------------------------------------------------------------------------
def test_only_the_call_back_department_may_close(story):
    case = story.resolved()
    story.accept(case, "call_center_agent")
    before = snapshot(case)

    for username in ["card_center_agent", "it_agent", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            services.case_close(case=case, actor=story.user(username), at=story.tick())
        assert refused.value.code == "not_your_department", username
        assert snapshot(case) == before, username


def test_without_call_back_only_the_current_department_may_close(story):
    case = story.open()
    story.accept(case, "call_center_agent")
    story.resolve(case, actor="call_center_agent")
    before = snapshot(case)

    for username in ["card_center_agent", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            services.case_close(case=case, actor=story.user(username), at=story.tick())
        assert refused.value.code == "not_your_department", username
        assert snapshot(case) == before, username
