"""Bad input to the transitions: a stable code, the field it is about, and nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import InvalidInput, StateConflict
from processes import services
from processes.models import Stage

from .support import snapshot


@pytest.mark.parametrize("to_stage", ["NO_SUCH_STAGE", "", "investigate_card", "CARD_REVIEW"])
def test_forward_to_an_unknown_stage(story, call_center_agent, to_stage):
    # CARD_REVIEW exists, but in the card dispute process, not in the complaint process
    case = story.open()
    story.accept(case, "call_center_agent")
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_forward(case=case, to_stage=to_stage, actor=call_center_agent, at=story.tick())

    assert refused.value.code == "unknown_stage"
    assert list(refused.value.extra["fields"]) == ["to_stage"]
    assert snapshot(case) == before


@pytest.mark.parametrize("to_stage", ["CALL_BACK", "RISK_REVIEW", "INTAKE"])
def test_forward_along_a_route_that_does_not_exist(story, call_center_agent, to_stage):
    # From the intake, a complaint may only go to an investigation
    case = story.open()
    story.accept(case, "call_center_agent")
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_forward(case=case, to_stage=to_stage, actor=call_center_agent, at=story.tick())

    assert refused.value.code == "no_such_route"
    assert list(refused.value.extra["fields"]) == ["to_stage"]
    assert snapshot(case) == before


def test_forward_to_a_stage_object_of_another_process(story, call_center_agent, org):
    case = story.open()
    story.accept(case, "call_center_agent")
    foreign = Stage.objects.get(process=org.processes["CARD_DISPUTE"], code="CARD_REVIEW")
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_forward(case=case, to_stage=foreign, actor=call_center_agent, at=story.tick())

    assert refused.value.code == "no_such_route"
    assert snapshot(case) == before


@pytest.mark.parametrize("reason", ["", " \t\n", None])
def test_return_without_a_reason(story, card_center_agent, reason):
    case = story.at_card_center()
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.handoff_return(
            handoff=case.handoffs.get(status="accepted"), actor=card_center_agent, reason=reason
        )

    assert refused.value.code == "reason_required"
    assert list(refused.value.extra["fields"]) == ["reason"]
    assert snapshot(case) == before


@pytest.mark.parametrize("amount", ["-0.01", "-500", -1])
def test_negative_compensation(story, card_center_agent, amount):
    case = story.at_card_center()
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_resolve(
            case=case,
            actor=card_center_agent,
            resolution="Compensate",
            recovery_measure="compensation",
            compensation_amount=amount,
            at=story.tick(),
        )

    assert refused.value.code == "negative_amount"
    assert list(refused.value.extra["fields"]) == ["compensation_amount"]
    assert snapshot(case) == before


def test_reopen_after_the_window(story, call_center_agent, complaint):
    case = story.closed()
    case.refresh_from_db()
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.case_reopen(
            case=case,
            actor=call_center_agent,
            reason="customer unhappy",
            at=case.resolved_at + timedelta(days=complaint.reopen_window_days, minutes=1),
        )

    assert refused.value.code == "reopen_window_closed"
    assert snapshot(case) == before
