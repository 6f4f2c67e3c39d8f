"""The right to ask is checked before the state decides what a request means: someone who may not
make a change gets 403/404 whether or not the change would be a no-op or a state conflict, so the
answer tells them nothing about the state."""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied, StateConflict
from processes import services

pytestmark = pytest.mark.django_db


def test_closing_a_case_that_is_not_resolved_is_403_for_a_stranger_and_409_for_its_department(
    story, it_agent, card_center_agent
):
    case = story.at_card_center()

    with pytest.raises(PermissionDenied):
        services.case_close(case=case, actor=it_agent, at=story.tick())
    with pytest.raises(StateConflict) as conflict:
        services.case_close(case=case, actor=card_center_agent, at=story.tick())
    assert conflict.value.code == "case_not_resolved"


def test_forwarding_a_closed_case_is_refused_before_no_open_handoff_for_a_stranger(story, it_agent):
    case = story.closed()

    with pytest.raises(PermissionDenied):
        services.case_forward(case=case, to_stage="INVESTIGATE_CARD", actor=it_agent, at=story.tick())
    with pytest.raises(PermissionDenied):
        services.case_resolve(
            case=case, actor=it_agent, resolution="x", recovery_measure="apology", at=story.tick()
        )


def test_deciding_a_compensation_is_the_approving_departments_right_before_any_state(
    story, card_center_agent, compliance_agent
):
    case = story.at_card_center()  # nothing awaits approval

    with pytest.raises(PermissionDenied):
        services.compensation_decide(case=case, actor=card_center_agent, approve=True, at=story.tick())
    with pytest.raises(StateConflict) as conflict:
        services.compensation_decide(case=case, actor=compliance_agent, approve=True, at=story.tick())
    assert conflict.value.code == "no_pending_approval"


def test_extending_a_deadline_is_refused_to_a_non_lead_before_the_state_checks(story, card_center_agent):
    case = story.open("CARD_DISPUTE")  # no regulatory deadline at all

    with pytest.raises(PermissionDenied):
        services.case_extend_deadline(case=case, actor=card_center_agent, reason="x", at=story.tick())
