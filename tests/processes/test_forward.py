"""case_forward: complete the accepted handoff and request the next along an allowed route."""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied, StateConflict
from processes import services
from processes.models import Case, CaseEvent, Handoff, Stage

from .support import event_kinds, local, open_handoff, snapshot


def test_forwarding_completes_the_handoff_and_requests_the_next_stage(story, call_center_agent):
    # Given an intake opened at 09:50 on Monday 1 June 2026 and accepted at 10:00
    story.now = local(2026, 6, 1, 9, 40)
    case = story.open()
    intake = story.accept(case, "call_center_agent")
    assert (intake.requested_at, intake.accepted_at) == (local(2026, 6, 1, 9, 50), local(2026, 6, 1, 10, 0))
    at = local(2026, 6, 1, 10, 30)

    # When it forwards the case to the card center's investigation
    new = services.case_forward(
        case=case, to_stage="INVESTIGATE_CARD", actor=call_center_agent, note="card fee", at=at
    )

    # Then the intake is completed with its business time
    intake.refresh_from_db()
    assert intake.status == Handoff.Status.COMPLETED
    assert (intake.completed_by, intake.completed_at) == (call_center_agent, at)
    assert intake.seconds_to_complete == 40 * 60
    # And the card center has a pending handoff, due in its own (head-office) hours
    new.refresh_from_db()
    assert new == open_handoff(case)
    assert new.status == Handoff.Status.PENDING
    assert (new.from_department.code, new.from_stage.code) == ("CALL_CENTER", "INTAKE")
    assert (new.to_department.code, new.to_stage.code) == ("CARD_CENTER", "INVESTIGATE_CARD")
    assert (new.requested_by, new.requested_at, new.note) == (call_center_agent, at, "card fee")
    assert new.response_due_at == local(2026, 6, 1, 16, 0)  # 4 h: 10:30–12:00, 13:30–16:00
    assert new.response_due_at.tzinfo is not None
    case.refresh_from_db()
    assert (case.current_department.code, case.current_stage.code) == ("CARD_CENTER", "INVESTIGATE_CARD")
    assert case.status == Case.Status.IN_PROGRESS
    assert event_kinds(case)[-2:] == [CaseEvent.Kind.HANDOFF_COMPLETED, CaseEvent.Kind.HANDOFF_REQUESTED]
    completed = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.HANDOFF_COMPLETED)
    assert completed.payload == {"business_seconds": 2400, "within_target": True}
    assert completed.department.code == "CALL_CENTER"


def test_a_stage_object_may_be_given_instead_of_its_code(story, call_center_agent, complaint):
    case = story.open()
    story.accept(case, "call_center_agent")
    lending = Stage.objects.get(process=complaint, code="INVESTIGATE_LENDING")

    services.case_forward(case=case, to_stage=lending, actor=call_center_agent, at=story.tick())

    assert open_handoff(case).to_department.code == "RETAIL_LENDING"


def test_a_review_stage_may_send_the_case_back_along_a_rework_route(story, card_center_agent):
    case = story.at_card_center()
    story.forward(case, "RISK_REVIEW", "card_center_agent")
    story.accept(case, "risk_agent")

    story.forward(case, "INVESTIGATE_CARD", "risk_agent")

    handoff = open_handoff(case)
    assert (handoff.from_department.code, handoff.to_department.code) == ("RISK", "CARD_CENTER")


# -- wrong states -------------------------------------------------------------------------------
def _pending(story):
    return story.at_card_center(accepted=False), "card_center_agent"


def _awaiting_approval(story):
    return story.awaiting_approval(), "compliance_agent"


def _closed(story):
    return story.closed(), "call_center_agent"


def _cancelled(story):
    case = story.at_card_center()
    services.case_cancel(
        case=case, actor=story.user("card_center_agent"), reason="withdrawn", at=story.tick()
    )
    return case, "card_center_agent"


@pytest.mark.parametrize(
    ("scene", "code"),
    [
        (_pending, "handoff_not_accepted"),
        (_awaiting_approval, "handoff_is_approval"),
        (_closed, "no_open_handoff"),
        (_cancelled, "no_open_handoff"),
    ],
)
def test_only_an_accepted_routing_handoff_can_be_forwarded(story, scene, code):
    case, username = scene(story)
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.case_forward(case=case, to_stage="RISK_REVIEW", actor=story.user(username), at=story.tick())

    assert refused.value.code == code
    assert snapshot(case) == before


# -- missing rights -----------------------------------------------------------------------------
def test_only_the_department_holding_the_case_may_forward_it(story):
    case = story.at_card_center()
    before = snapshot(case)

    for username in ["call_center_agent", "it_agent", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            services.case_forward(
                case=case, to_stage="RISK_REVIEW", actor=story.user(username), at=story.tick()
            )
        assert refused.value.code == "not_your_department", username
        assert snapshot(case) == before, username
