"""case_extend_deadline: the regulatory deadline, extended once by the lead and once by compliance."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import InvalidInput, PermissionDenied, StateConflict
from processes import services
from processes.models import Case, CaseEvent

from .support import event_kinds, snapshot

Kind = CaseEvent.Kind


def test_the_department_lead_grants_the_first_extension(story, card_center_lead):
    # Given a complaint received on 1 June 2026, due under the regulation on 16 June
    case = story.at_card_center()
    assert case.regulatory_deadline == date(2026, 6, 16)
    at = story.tick()

    # When the card center's lead extends it because the case is complicated
    services.case_extend_deadline(case=case, actor=card_center_lead, reason="  Merchant abroad  ", at=at)

    # Then the deadline moves by the process's first extension, to 30 days after receipt
    case.refresh_from_db()
    assert case.regulatory_deadline == date(2026, 7, 1)
    assert case.regulatory_extensions == 1
    assert case.status == Case.Status.IN_PROGRESS
    # And the timeline records the approval (the customer's message, and its "customer notified"
    # event, come at delivery: tests/customers/test_extension_message.py)
    assert event_kinds(case)[-1:] == [Kind.DEADLINE_EXTENDED]
    extended = CaseEvent.objects.get(case=case, kind=Kind.DEADLINE_EXTENDED)
    assert (extended.actor, extended.department.code, extended.created_at) == (
        card_center_lead,
        "CARD_CENTER",
        at,
    )
    assert extended.payload == {
        "previous": "2026-06-16",
        "deadline": "2026-07-01",
        "days": 15,
        "extension": 1,
        "approver": "card_center_lead",
        "reason": "Merchant abroad",
        "reason_category": "investigation",
    }


def test_compliance_grants_the_second_extension(story, card_center_lead, compliance_agent):
    case = story.at_card_center()
    services.case_extend_deadline(case=case, actor=card_center_lead, reason="complicated", at=story.tick())

    services.case_extend_deadline(
        case=case, actor=compliance_agent, reason="very complicated", at=story.tick()
    )

    case.refresh_from_db()
    assert case.regulatory_deadline == date(2026, 7, 31)
    assert case.regulatory_extensions == 2
    assert CaseEvent.objects.filter(case=case, kind=Kind.DEADLINE_EXTENDED).count() == 2
    second = CaseEvent.objects.filter(case=case, kind=Kind.DEADLINE_EXTENDED).last()
    assert (second.payload["approver"], second.payload["days"], second.payload["extension"]) == (
        "compliance_agent",
        30,
        2,
    )


def test_a_third_extension_is_refused(story, card_center_lead, compliance_agent, quality_officer):
    case = story.at_card_center()
    services.case_extend_deadline(case=case, actor=card_center_lead, reason="complicated", at=story.tick())
    services.case_extend_deadline(case=case, actor=compliance_agent, reason="very", at=story.tick())
    before = snapshot(case)

    for actor in (compliance_agent, quality_officer):
        with pytest.raises(StateConflict) as refused:
            services.case_extend_deadline(case=case, actor=actor, reason="even more", at=story.tick())
        assert refused.value.code == "no_more_extensions"

    assert snapshot(case) == before


# -- missing rights -----------------------------------------------------------------------------
def test_the_first_extension_needs_the_lead_of_the_department_holding_the_case(story):
    case = story.at_card_center()
    before = snapshot(case)

    for username in ["card_center_agent", "call_center_lead", "compliance_agent", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            services.case_extend_deadline(case=case, actor=story.user(username), reason="x", at=story.tick())
        assert refused.value.code == "not_lead", username
        assert snapshot(case) == before, username


def test_the_second_extension_needs_the_approving_department(story, card_center_lead):
    case = story.at_card_center()
    services.case_extend_deadline(case=case, actor=card_center_lead, reason="complicated", at=story.tick())
    before = snapshot(case)

    for username in ["card_center_lead", "card_center_agent", "risk_lead", "auditor"]:
        with pytest.raises(PermissionDenied) as refused:
            services.case_extend_deadline(case=case, actor=story.user(username), reason="x", at=story.tick())
        assert refused.value.code == "not_approver", username
        assert snapshot(case) == before, username


# -- wrong states and input ---------------------------------------------------------------------
def test_a_process_without_regulatory_deadline_cannot_be_extended(story, call_center_lead):
    case = story.open("CARD_DISPUTE")  # at the call center's intake
    assert case.regulatory_deadline is None
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.case_extend_deadline(case=case, actor=call_center_lead, reason="x", at=story.tick())

    assert refused.value.code == "no_regulatory_deadline"
    assert snapshot(case) == before


def _resolved(story):
    return story.resolved()


def _closed(story):
    return story.closed()


def _cancelled(story):
    case = story.open()
    services.case_cancel(
        case=case, actor=story.user("call_center_agent"), reason="duplicate", at=story.tick()
    )
    return case


@pytest.mark.parametrize("scene", [_resolved, _closed, _cancelled])
def test_only_an_open_case_can_be_extended(story, quality_officer, scene):
    case = scene(story)
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.case_extend_deadline(case=case, actor=quality_officer, reason="x", at=story.tick())

    assert refused.value.code == "case_not_open"
    assert snapshot(case) == before


def test_an_extension_needs_a_reason(story, card_center_lead):
    case = story.at_card_center()
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_extend_deadline(case=case, actor=card_center_lead, reason="  ")

    assert refused.value.code == "reason_required"
    assert snapshot(case) == before
