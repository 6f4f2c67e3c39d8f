"""case_resolve and compensation_decide: service recovery, and approval of large compensations."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings

from core.errors import InvalidInput, PermissionDenied, StateConflict
from processes import services
from processes.models import Case, CaseEvent, Handoff

from .support import event_kinds, open_handoff, snapshot

Kind = CaseEvent.Kind


def test_resolving_completes_the_handoff_and_requests_the_call_back(story, card_center_agent):
    # Given a complaint the card center has accepted
    case = story.at_card_center()
    investigation = open_handoff(case)
    at = story.tick()

    # When it resolves the case with an apology
    services.case_resolve(
        case=case,
        actor=card_center_agent,
        resolution="  Fee refunded  ",
        recovery_measure=Case.Recovery.FEE_WAIVER,
        at=at,
    )

    # Then the case is resolved by the card center at its stage
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert (case.resolved_at, case.resolved_by) == (at, card_center_agent)
    assert (case.resolution, case.recovery_measure) == ("Fee refunded", "fee_waiver")
    assert case.resolved_stage.code == "INVESTIGATE_CARD"
    assert case.compensation_approval == Case.Approval.NOT_NEEDED
    assert case.compensation_amount is None
    # And its handoff is completed
    investigation.refresh_from_db()
    assert (investigation.status, investigation.completed_by) == (Handoff.Status.COMPLETED, card_center_agent)
    # And the call center is asked to call the customer back
    call_back = open_handoff(case)
    assert call_back.status == Handoff.Status.PENDING
    assert (call_back.from_department.code, call_back.to_department.code) == ("CARD_CENTER", "CALL_CENTER")
    assert call_back.to_stage.code == "CALL_BACK"
    assert (case.current_department.code, case.current_stage.code) == ("CALL_CENTER", "CALL_BACK")
    assert event_kinds(case)[-3:] == [Kind.HANDOFF_COMPLETED, Kind.RESOLVED, Kind.HANDOFF_REQUESTED]
    resolved = CaseEvent.objects.get(case=case, kind=Kind.RESOLVED)
    assert resolved.department.code == "CARD_CENTER"
    assert resolved.payload == {
        "resolution": "Fee refunded",
        "recovery_measure": "fee_waiver",
        "compensation_amount": None,
    }


def test_a_case_resolved_at_intake_has_no_call_back(story, call_center_agent):
    case = story.open()
    story.accept(case, "call_center_agent")

    services.case_resolve(
        case=case, actor=call_center_agent, resolution="Explained the fee", recovery_measure="explanation"
    )

    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert not case.handoffs.filter(status__in=Handoff.OPEN_STATUSES).exists()
    assert case.current_department.code == "CALL_CENTER"


def test_a_compensation_up_to_the_threshold_needs_no_approval(story, card_center_agent):
    case = story.at_card_center()

    services.case_resolve(
        case=case,
        actor=card_center_agent,
        resolution="Goodwill",
        recovery_measure="compensation",
        compensation_amount="500.00",
        at=story.tick(),
    )

    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert case.compensation_amount == Decimal("500.00")
    assert case.compensation_approval == Case.Approval.NOT_NEEDED
    assert open_handoff(case).to_stage.code == "CALL_BACK"


def test_a_compensation_above_the_threshold_goes_to_compliance_first(story, card_center_agent):
    # Given a complaint at the card center
    case = story.at_card_center()
    investigation = open_handoff(case)
    at = story.tick()

    # When it proposes a compensation of 800.00, above the process's 500.00
    services.case_resolve(
        case=case,
        actor=card_center_agent,
        resolution="Compensate the lost interest",
        recovery_measure="compensation",
        compensation_amount=Decimal("800"),
        at=at,
    )

    # Then the case is not resolved yet: it awaits compliance's approval
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS
    assert case.resolved_at is None
    assert case.compensation_approval == Case.Approval.PENDING
    assert case.compensation_amount == Decimal("800.00")
    assert case.resolved_stage.code == "INVESTIGATE_CARD"
    investigation.refresh_from_db()
    assert investigation.status == Handoff.Status.COMPLETED
    approval = open_handoff(case)
    assert approval.kind == Handoff.Kind.APPROVAL
    assert approval.status == Handoff.Status.PENDING
    assert approval.to_stage is None
    assert (approval.from_department.code, approval.to_department.code) == ("CARD_CENTER", "COMPLIANCE")
    assert approval.response_target_seconds == settings.BATON_APPROVAL_RESPONSE_MINUTES * 60
    assert approval.resolution_target_seconds == settings.BATON_APPROVAL_RESOLUTION_MINUTES * 60
    assert case.current_department.code == "COMPLIANCE"
    assert case.current_stage.code == "INVESTIGATE_CARD"
    assert event_kinds(case)[-3:] == [
        Kind.HANDOFF_COMPLETED,
        Kind.COMPENSATION_REQUESTED,
        Kind.HANDOFF_REQUESTED,
    ]
    requested = CaseEvent.objects.get(case=case, kind=Kind.COMPENSATION_REQUESTED)
    assert requested.payload == {"amount": "800.00", "threshold": "500.00", "approver": "COMPLIANCE"}


def test_approving_the_compensation_resolves_the_case_and_requests_the_call_back(
    story, compliance_agent, card_center_agent
):
    case = story.awaiting_approval()
    approval = open_handoff(case)
    at = story.tick()

    services.compensation_decide(case=case, actor=compliance_agent, approve=True, note="ok", at=at)

    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert case.compensation_approval == Case.Approval.APPROVED
    assert case.resolved_at == at
    assert case.resolved_stage.code == "INVESTIGATE_CARD"
    # The resolution stays the card center's: compliance only approved its compensation.
    assert case.resolved_by == card_center_agent
    assert CaseEvent.objects.get(case=case, kind=Kind.RESOLVED).actor == compliance_agent
    approval.refresh_from_db()
    assert approval.status == Handoff.Status.COMPLETED
    assert (approval.accepted_by, approval.completed_by) == (compliance_agent, compliance_agent)
    call_back = open_handoff(case)
    assert (call_back.from_department.code, call_back.to_department.code) == ("COMPLIANCE", "CALL_CENTER")
    assert call_back.to_stage.code == "CALL_BACK"
    assert event_kinds(case)[-5:] == [
        Kind.HANDOFF_ACCEPTED,
        Kind.HANDOFF_COMPLETED,
        Kind.COMPENSATION_APPROVED,
        Kind.RESOLVED,
        Kind.HANDOFF_REQUESTED,
    ]
    assert CaseEvent.objects.get(case=case, kind=Kind.COMPENSATION_APPROVED).payload == {
        "amount": "800.00",
        "note": "ok",
    }


def test_an_approval_already_accepted_by_compliance_can_be_decided(story, compliance_agent):
    case = story.awaiting_approval()
    story.accept(case, "compliance_agent")

    services.compensation_decide(case=case, actor=compliance_agent, approve=True, at=story.tick())

    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert (
        CaseEvent.objects.filter(case=case, kind=Kind.HANDOFF_ACCEPTED, department__code="COMPLIANCE").count()
        == 1
    )


def test_rejecting_the_compensation_sends_the_case_back_to_the_proposing_stage(
    story, compliance_agent, card_center_agent
):
    # Given a compensation awaiting compliance's approval
    case = story.awaiting_approval()
    approval = open_handoff(case)

    # When compliance rejects it, saying why
    services.compensation_decide(
        case=case, actor=compliance_agent, approve=False, note="Offer a fee waiver instead", at=story.tick()
    )

    # Then the card center has the case again, at its investigation stage
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS
    assert case.compensation_approval == Case.Approval.REJECTED
    assert case.resolved_stage is None
    assert case.resolved_at is None
    approval.refresh_from_db()
    assert approval.status == Handoff.Status.COMPLETED
    back = open_handoff(case)
    assert (back.from_department.code, back.to_department.code) == ("COMPLIANCE", "CARD_CENTER")
    assert back.to_stage.code == "INVESTIGATE_CARD"
    assert back.note == "Offer a fee waiver instead"
    assert (case.current_department.code, case.current_stage.code) == ("CARD_CENTER", "INVESTIGATE_CARD")
    assert event_kinds(case)[-2:] == [Kind.COMPENSATION_REJECTED, Kind.HANDOFF_REQUESTED]

    # And it can resolve again with another measure
    story.accept(case, "card_center_agent")
    story.resolve(case, recovery_measure="fee_waiver")
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED


@pytest.mark.parametrize("note", ["", "   "])
def test_a_rejection_needs_a_note(story, compliance_agent, note):
    case = story.awaiting_approval()
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.compensation_decide(case=case, actor=compliance_agent, approve=False, note=note)

    assert refused.value.code == "reason_required"
    assert list(refused.value.extra["fields"]) == ["note"]
    assert snapshot(case) == before


# -- wrong states -------------------------------------------------------------------------------
def _pending(story):
    return story.at_card_center(accepted=False), "card_center_agent", "handoff_not_accepted"


def _review_stage(story):
    case = story.at_card_center()
    story.forward(case, "RISK_REVIEW", "card_center_agent")
    story.accept(case, "risk_agent")
    return case, "risk_agent", "stage_cannot_resolve"


def _awaiting_approval(story):
    return story.awaiting_approval(), "compliance_agent", "awaiting_approval"


def _call_back(story):
    case = story.resolved()
    story.accept(case, "call_center_agent")
    return case, "call_center_agent", "case_not_open"


def _closed(story):
    return story.closed(), "card_center_agent", "no_open_handoff"


def _cancelled(story):
    case = story.at_card_center()
    services.case_cancel(
        case=case, actor=story.user("card_center_agent"), reason="withdrawn", at=story.tick()
    )
    return case, "card_center_agent", "no_open_handoff"


@pytest.mark.parametrize(
    "scene", [_pending, _review_stage, _awaiting_approval, _call_back, _closed, _cancelled]
)
def test_only_an_accepted_handoff_at_a_resolving_stage_can_resolve(story, scene):
    case, username, code = scene(story)
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        story.resolve(case, actor=username)

    assert refused.value.code == code
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("scene", "code"),
    [
        (lambda story: story.at_card_center(), "no_pending_approval"),
        (lambda story: story.resolved(), "no_pending_approval"),
        (lambda story: story.closed(), "no_open_handoff"),
    ],
)
def test_only_a_pending_compensation_can_be_decided(story, compliance_agent, scene, code):
    case = scene(story)
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.compensation_decide(case=case, actor=compliance_agent, approve=True, at=story.tick())

    assert refused.value.code == code
    assert snapshot(case) == before


# -- missing rights -----------------------------------------------------------------------------
def test_only_the_department_holding_the_case_may_resolve_it(story):
    case = story.at_card_center()
    before = snapshot(case)

    for username in ["call_center_agent", "it_agent", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            story.resolve(case, actor=username)
        assert refused.value.code == "not_your_department", username
        assert snapshot(case) == before, username


def test_only_the_approving_department_decides_a_compensation(story):
    case = story.awaiting_approval()
    before = snapshot(case)

    for username in ["card_center_agent", "card_center_lead", "auditor", "risk_agent"]:
        for approve in (True, False):
            with pytest.raises(PermissionDenied) as refused:
                services.compensation_decide(
                    case=case, actor=story.user(username), approve=approve, note="no", at=story.tick()
                )
            assert refused.value.code == "not_your_department", (username, approve)
            assert snapshot(case) == before, (username, approve)


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"resolution": " "}, "resolution", "invalid"),
        ({"recovery_measure": "voucher"}, "recovery_measure", "invalid"),
        ({"recovery_measure": "compensation"}, "compensation_amount", "invalid"),
        ({"recovery_measure": "compensation", "compensation_amount": "0"}, "compensation_amount", "invalid"),
        ({"compensation_amount": "-1"}, "compensation_amount", "negative_amount"),
        ({"compensation_amount": "12,50"}, "compensation_amount", "invalid_amount"),
        ({"compensation_amount": "1.005"}, "compensation_amount", "invalid_amount"),
        ({"compensation_amount": "NaN"}, "compensation_amount", "invalid_amount"),
        ({"compensation_amount": "-Infinity"}, "compensation_amount", "invalid_amount"),
        ({"compensation_amount": "1e10"}, "compensation_amount", "invalid_amount"),
    ],
)
def test_a_bad_resolution_is_refused(story, card_center_agent, fields, field, code):
    case = story.at_card_center()
    before = snapshot(case)
    arguments = {"resolution": "Refund", "recovery_measure": "fee_waiver", **fields}

    with pytest.raises(InvalidInput) as refused:
        services.case_resolve(case=case, actor=card_center_agent, at=story.tick(), **arguments)

    assert refused.value.code == code
    assert field in refused.value.extra["fields"]
    assert snapshot(case) == before


@pytest.mark.parametrize("typed", ["8e2", "800", 800, Decimal("800.0")])
def test_the_timeline_shows_the_amount_as_stored(story, compliance_agent, typed):
    case = story.awaiting_approval(amount=typed)
    services.compensation_decide(case=case, actor=compliance_agent, approve=True, at=story.tick())

    amounts = [
        event.payload.get("amount", event.payload.get("compensation_amount"))
        for event in CaseEvent.objects.filter(
            case=case, kind__in=[Kind.COMPENSATION_REQUESTED, Kind.COMPENSATION_APPROVED, Kind.RESOLVED]
        )
    ]
    assert amounts == ["800.00", "800.00", "800.00"]
