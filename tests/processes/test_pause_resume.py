"""handoff_pause / handoff_resume: the resolution clock stops while waiting on the customer."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, PermissionDenied, StateConflict
from processes import services
from processes.models import CaseEvent, Handoff, PauseSegment

from .support import local, open_handoff, snapshot


def test_pausing_opens_a_segment_with_its_cause(story, card_center_agent):
    case = story.at_card_center()
    handoff = open_handoff(case)
    due = handoff.resolution_due_at
    at = story.tick()

    services.handoff_pause(
        handoff=handoff, actor=card_center_agent, cause="customer", note="waiting for receipts", at=at
    )

    handoff.refresh_from_db()
    assert handoff.paused_at == at
    assert handoff.is_paused
    assert handoff.status == Handoff.Status.ACCEPTED
    assert handoff.resolution_due_at == due  # moves only when the pause ends
    segment = PauseSegment.objects.get(handoff=handoff)
    assert (segment.cause, segment.note, segment.started_at, segment.started_by) == (
        "customer",
        "waiting for receipts",
        at,
        card_center_agent,
    )
    assert segment.ended_at is None
    event = CaseEvent.objects.filter(case=case).last()
    assert event.kind == CaseEvent.Kind.PAUSED
    assert event.payload == {"cause": "customer", "note": "waiting for receipts"}
    assert (event.handoff, event.actor, event.department.code) == (handoff, card_center_agent, "CARD_CENTER")


def test_resuming_closes_the_segment_and_moves_the_due_time(story, card_center_agent):
    # Given an accepted handoff paused from 11:00 to 15:30 on Monday 1 June (3 business hours)
    case = story.at_card_center()
    handoff = open_handoff(case)
    due = handoff.resolution_due_at
    services.handoff_pause(
        handoff=handoff, actor=card_center_agent, cause="external", at=local(2026, 6, 1, 11)
    )

    # When it is resumed
    services.handoff_resume(handoff=handoff, actor=card_center_agent, at=local(2026, 6, 1, 15, 30))

    # Then the segment has its business length and the resolution due time moved by it
    handoff.refresh_from_db()
    segment = PauseSegment.objects.get(handoff=handoff)
    assert (segment.ended_at, segment.ended_by, segment.business_seconds) == (
        local(2026, 6, 1, 15, 30),
        card_center_agent,
        3 * 3600,
    )
    assert handoff.paused_at is None
    assert handoff.paused_seconds == 3 * 3600
    assert handoff.resolution_due_at > due
    event = CaseEvent.objects.filter(case=case).last()
    assert event.kind == CaseEvent.Kind.RESUMED
    assert event.payload["paused_business_seconds"] == 3 * 3600


def test_pauses_add_up(story, card_center_agent):
    case = story.at_card_center()
    handoff = open_handoff(case)
    for start, end in [((11, 0), (11, 30)), ((14, 0), (14, 45))]:
        services.handoff_pause(
            handoff=handoff, actor=card_center_agent, cause="customer", at=local(2026, 6, 1, *start)
        )
        services.handoff_resume(handoff=handoff, actor=card_center_agent, at=local(2026, 6, 1, *end))

    handoff.refresh_from_db()
    assert handoff.paused_seconds == 75 * 60
    assert list(handoff.pauses.values_list("business_seconds", flat=True)) == [1800, 2700]


# -- wrong states -------------------------------------------------------------------------------
def test_a_pending_handoff_cannot_be_paused(story, card_center_agent):
    case = story.at_card_center(accepted=False)
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_pause(handoff=open_handoff(case), actor=card_center_agent, cause="customer")

    assert refused.value.code == "handoff_not_accepted"
    assert snapshot(case) == before


def test_a_paused_handoff_cannot_be_paused_again(story, card_center_agent):
    case = story.at_card_center()
    services.handoff_pause(
        handoff=open_handoff(case), actor=card_center_agent, cause="customer", at=story.tick()
    )
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_pause(
            handoff=open_handoff(case), actor=card_center_agent, cause="external", at=story.tick()
        )

    assert refused.value.code == "handoff_paused"
    assert snapshot(case) == before


def test_a_completed_handoff_cannot_be_paused(story, call_center_agent):
    case = story.at_card_center()
    intake = case.handoffs.get(to_stage__code="INTAKE")
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_pause(handoff=intake, actor=call_center_agent, cause="customer", at=story.tick())

    assert refused.value.code == "handoff_not_accepted"
    assert snapshot(case) == before


@pytest.mark.parametrize("accepted", [True, False])
def test_a_running_handoff_cannot_be_resumed(story, card_center_agent, accepted):
    case = story.at_card_center(accepted=accepted)
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_resume(handoff=open_handoff(case), actor=card_center_agent, at=story.tick())

    assert refused.value.code == "handoff_not_paused"
    assert snapshot(case) == before


@pytest.mark.parametrize("cause", ["", "department", "RISK"])
def test_only_the_customer_or_an_outside_party_is_a_cause(story, card_center_agent, cause):
    case = story.at_card_center()
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.handoff_pause(handoff=open_handoff(case), actor=card_center_agent, cause=cause)

    assert refused.value.code == "unknown_cause"
    assert list(refused.value.extra["fields"]) == ["cause"]
    assert snapshot(case) == before


# -- missing rights -----------------------------------------------------------------------------
def test_only_the_receiving_department_may_pause(story):
    case = story.at_card_center()
    before = snapshot(case)

    for username in ["call_center_agent", "it_agent", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            services.handoff_pause(
                handoff=open_handoff(case), actor=story.user(username), cause="customer", at=story.tick()
            )
        assert refused.value.code == "not_your_department", username
        assert snapshot(case) == before, username


def test_only_the_receiving_department_may_resume(story, card_center_agent):
    case = story.at_card_center()
    services.handoff_pause(
        handoff=open_handoff(case), actor=card_center_agent, cause="customer", at=story.tick()
    )
    before = snapshot(case)

    for username in ["call_center_agent", "it_agent", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            services.handoff_resume(handoff=open_handoff(case), actor=story.user(username), at=story.tick())
        assert refused.value.code == "not_your_department", username
        assert snapshot(case) == before, username
