"""POST /cases/{reference}/forward|resolve|close|reopen|cancel|comments|extend-deadline|
compensation-decision/ and GET /cases/{reference}/events/: success, each error status, scope."""

from __future__ import annotations

from datetime import timedelta

import pytest

from processes.models import Case, CaseEvent, Handoff

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def post(client, case, action, data=None):
    return client.post(f"/api/v1/cases/{case.reference}/{action}/", data or {}, format="json")


# -- forward ----------------------------------------------------------------------------------------
def test_forward_hands_the_case_to_the_next_stage(api, story):
    case = story.open()
    story.accept(case, "call_center_agent")

    response = post(
        api("call_center_agent"), case, "forward", {"to_stage": "INVESTIGATE_CARD", "note": "年费"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stage"], body["department"]) == ("INVESTIGATE_CARD", "CARD_CENTER")
    assert body["open_handoff"]["status"] == "pending"
    assert body["open_handoff"]["note"] == "年费"
    # The receiving department now sees it.
    assert api("card_center_agent").get(f"/api/v1/cases/{case.reference}/").status_code == 200


def test_forward_errors(api, story):
    case = story.open()
    call = api("call_center_agent")

    assert_error(post(call, case, "forward", {"to_stage": "INVESTIGATE_CARD"}), 409, "handoff_not_accepted")
    story.accept(case, "call_center_agent")
    assert_error(post(call, case, "forward", {}), 400, "invalid")
    assert "to_stage" in assert_error(post(call, case, "forward", {"to_stage": "NOPE"}), 400)["fields"]
    body = assert_error(post(call, case, "forward", {"to_stage": "CALL_BACK"}), 400, "no_such_route")
    assert "to_stage" in body["fields"]
    assert_error(post(api("it_agent"), case, "forward", {"to_stage": "INVESTIGATE_CARD"}), 404)
    assert_error(post(api("auditor"), case, "forward", {"to_stage": "INVESTIGATE_CARD"}), 403)
    forwarded = story.at_card_center(accepted=False)
    # The call center still sees the case it forwarded, but the card center's handoff is not its own.
    assert_error(post(call, forwarded, "forward", {"to_stage": "RISK_REVIEW"}), 403, "not_your_department")


# -- resolve and the compensation decision ----------------------------------------------------------
def test_resolve_with_service_recovery(api, story):
    case = story.at_card_center()

    response = post(
        api("card_center_agent"),
        case,
        "resolve",
        {"resolution": "年费退还", "recovery_measure": "fee_waiver"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "resolved" and body["recovery_measure"] == "fee_waiver"
    assert body["open_handoff"]["to_stage"] == "CALL_BACK"


def test_resolve_errors(api, story):
    pending = story.at_card_center(accepted=False)
    card = api("card_center_agent")

    assert_error(
        post(card, pending, "resolve", {"resolution": "x", "recovery_measure": "apology"}),
        409,
        "handoff_not_accepted",
    )
    story.accept(pending, "card_center_agent")
    body = assert_error(post(card, pending, "resolve", {"recovery_measure": "gold"}), 400, "invalid")
    assert {"resolution", "recovery_measure"} <= set(body["fields"])
    body = assert_error(
        post(card, pending, "resolve", {"resolution": "x", "recovery_measure": "compensation"}), 400
    )
    assert "compensation_amount" in body["fields"]
    body = assert_error(
        post(
            card,
            pending,
            "resolve",
            {"resolution": "x", "recovery_measure": "compensation", "compensation_amount": "1e12"},
        ),
        400,
    )
    assert "compensation_amount" in body["fields"]
    assert_error(
        post(
            api("call_center_agent"), pending, "resolve", {"resolution": "x", "recovery_measure": "apology"}
        ),
        403,
        "not_your_department",
    )
    assert_error(
        post(api("it_agent"), pending, "resolve", {"resolution": "x", "recovery_measure": "apology"}), 404
    )


def test_a_large_compensation_waits_for_the_approving_department(api, story):
    case = story.at_card_center()

    body = post(
        api("card_center_agent"),
        case,
        "resolve",
        {"resolution": "赔付", "recovery_measure": "compensation", "compensation_amount": "800.00"},
    ).json()

    assert body["status"] == "in_progress" and body["compensation_approval"] == "pending"
    assert (body["open_handoff"]["kind"], body["open_handoff"]["to_department"]) == ("approval", "COMPLIANCE")
    compliance = api("compliance_agent")
    assert_error(post(api("card_center_agent"), case, "compensation-decision", {"approve": True}), 403)
    assert_error(post(compliance, case, "compensation-decision", {"approve": False}), 400, "reason_required")
    assert_error(post(compliance, case, "compensation-decision", {}), 400, "invalid")
    assert_error(post(api("it_agent"), case, "compensation-decision", {"approve": True}), 404)

    approved = post(compliance, case, "compensation-decision", {"approve": True, "note": "同意"})

    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "resolved"
    assert approved.json()["compensation_approval"] == "approved"
    assert_error(
        post(compliance, case, "compensation-decision", {"approve": True}), 409, "no_pending_approval"
    )


def test_a_rejected_compensation_goes_back_to_the_resolving_stage(api, story):
    case = story.at_card_center()
    post(
        api("card_center_agent"),
        case,
        "resolve",
        {"resolution": "赔付", "recovery_measure": "compensation", "compensation_amount": 800},
    )

    body = post(
        api("compliance_agent"), case, "compensation-decision", {"approve": False, "note": "金额过高"}
    ).json()

    assert body["compensation_approval"] == "rejected"
    assert (body["stage"], body["open_handoff"]["to_department"]) == ("INVESTIGATE_CARD", "CARD_CENTER")


# -- close, reopen, cancel --------------------------------------------------------------------------
def test_close_a_resolved_case_after_the_call_back(api, story):
    case = story.resolved()
    call = api("call_center_agent")

    assert_error(post(call, case, "close"), 409, "handoff_not_accepted")
    story.accept(case, "call_center_agent")
    assert_error(post(api("card_center_agent"), case, "close"), 403, "not_your_department")
    assert_error(post(api("it_agent"), case, "close"), 404)

    response = post(call, case, "close")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed" and response.json()["open_handoff"] is None
    assert_error(post(call, case, "close"), 409, "case_not_resolved")


def test_reopen_a_closed_case(api, story):
    case = story.closed()
    call = api("call_center_agent")

    assert_error(post(call, case, "reopen", {"reason": " "}), 400, "invalid")
    assert_error(post(api("auditor"), case, "reopen", {"reason": "客户不满意"}), 403, "not_your_case")
    assert_error(post(api("it_agent"), case, "reopen", {"reason": "客户不满意"}), 404)

    response = post(call, case, "reopen", {"reason": "客户不满意"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["reopen_count"], body["department"]) == ("in_progress", 1, "CARD_CENTER")
    assert_error(post(call, case, "reopen", {"reason": "again"}), 409, "case_not_resolved")


def test_cancel_an_open_case(api, story):
    case = story.open()
    call = api("call_center_agent")

    assert_error(post(call, case, "cancel", {}), 400, "invalid")
    assert_error(post(api("auditor"), case, "cancel", {"reason": "重复"}), 403)
    assert_error(post(api("it_agent"), case, "cancel", {"reason": "重复"}), 404)

    response = post(call, case, "cancel", {"reason": "重复受理"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled" and response.json()["open_handoff"] is None
    assert_error(post(call, case, "cancel", {"reason": "again"}), 409, "case_not_open")


# -- comments and the timeline ----------------------------------------------------------------------
def test_comment_is_201_with_the_event(api, story):
    case = story.at_card_center()

    response = post(api("call_center_agent"), case, "comments", {"text": "客户来电催办"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["actor"], body["payload"]) == (
        "comment",
        "call_center_agent",
        {"text": "客户来电催办"},
    )
    assert_error(post(api("call_center_agent"), case, "comments", {"text": ""}), 400, "invalid")
    assert_error(post(api("auditor"), case, "comments", {"text": "hi"}), 403, "not_your_case")
    assert_error(post(api("it_agent"), case, "comments", {"text": "hi"}), 404)


def test_events_feed_pages_the_whole_timeline_by_cursor(api, story):
    case = story.at_card_center()
    client = api("card_center_agent")
    for n in range(5):
        post(client, case, "comments", {"text": f"note {n}"})
    expected = list(
        CaseEvent.objects.filter(case=case).order_by("created_at", "pk").values_list("pk", flat=True)
    )

    seen, url = [], f"/api/v1/cases/{case.reference}/events/?page_size=3"
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.content
        seen += [e["id"] for e in page.json()["results"]]
        url = page.json()["next"]

    assert seen == expected and len(seen) > 5
    assert_error(api("it_agent").get(f"/api/v1/cases/{case.reference}/events/"), 404)
    assert_error(client.get(f"/api/v1/cases/{case.reference}/events/?cursor=garbage"), 400)


# -- the regulatory deadline ------------------------------------------------------------------------
def test_extend_the_regulatory_deadline_twice_at_most(api, story):
    case = story.open()
    deadline = case.regulatory_deadline

    assert_error(post(api("call_center_agent"), case, "extend-deadline", {"reason": "复杂"}), 403, "not_lead")
    assert_error(post(api("call_center_lead"), case, "extend-deadline", {}), 400, "invalid")
    assert_error(post(api("it_lead"), case, "extend-deadline", {"reason": "复杂"}), 404)
    first = post(api("call_center_lead"), case, "extend-deadline", {"reason": "案情复杂"})
    assert first.status_code == 200, first.content
    assert first.json()["regulatory_deadline"] == (deadline + timedelta(days=15)).isoformat()
    assert_error(
        post(api("call_center_lead"), case, "extend-deadline", {"reason": "再延"}), 403, "not_approver"
    )
    second = post(api("quality_officer"), case, "extend-deadline", {"reason": "特别复杂"})
    assert second.status_code == 200, second.content
    assert second.json()["regulatory_extensions"] == 2
    assert_error(
        post(api("quality_officer"), case, "extend-deadline", {"reason": "x"}), 409, "no_more_extensions"
    )
    kinds = set(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert "deadline_extended" in kinds


def test_extend_a_case_without_a_regulatory_deadline_is_409(api, story):
    case = story.open(process="CARD_DISPUTE")

    assert_error(
        post(api("call_center_lead"), case, "extend-deadline", {"reason": "x"}), 409, "no_regulatory_deadline"
    )


def test_state_changes_never_change_a_case_out_of_scope(api, story):
    """A token of one department cannot act on another department's case: 404, nothing written."""
    case = story.at_card_center()
    it = api("it_lead")
    before = CaseEvent.objects.filter(case=case).count()

    for action, data in [
        ("forward", {"to_stage": "RISK_REVIEW"}),
        ("resolve", {"resolution": "x", "recovery_measure": "apology"}),
        ("close", {}),
        ("reopen", {"reason": "x"}),
        ("cancel", {"reason": "x"}),
        ("comments", {"text": "x"}),
        ("extend-deadline", {"reason": "x"}),
        ("compensation-decision", {"approve": True}),
    ]:
        assert_error(post(it, case, action, data), 404, "not_found")
    handoff = Handoff.objects.get(case=case, status=Handoff.Status.ACCEPTED)
    for action, data in [
        ("accept", {}),
        ("return", {"reason": "x"}),
        ("claim", {}),
        ("pause", {"cause": "customer"}),
        ("resume", {}),
    ]:
        assert_error(it.post(f"/api/v1/handoffs/{handoff.pk}/{action}/", data, format="json"), 404)
    assert CaseEvent.objects.filter(case=case).count() == before
    assert Case.objects.get(pk=case.pk).status == Case.Status.IN_PROGRESS
