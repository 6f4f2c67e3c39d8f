"""GET /handoffs/, GET /handoffs/{id}/ and POST /handoffs/{id}/accept|return|claim|pause|resume/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from processes.models import Handoff

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def post(client, handoff, action, data=None):
    return client.post(f"/api/v1/handoffs/{handoff.pk}/{action}/", data or {}, format="json")


# -- list and detail --------------------------------------------------------------------------------
def test_list_is_the_queues_of_the_callers_cases(api, story):
    at_card = story.at_card_center(accepted=False)
    story.open()

    card = api("card_center_agent").get("/api/v1/handoffs/").json()
    it = api("it_agent").get("/api/v1/handoffs/").json()

    # The card center sees both handoffs of its case (intake and its own), nothing of the other case.
    assert {h["case"] for h in card["results"]} == {at_card.reference}
    assert card["count"] == 2
    assert it["count"] == 0


def test_list_filters(api, story):
    pending_card = story.at_card_center(accepted=False)
    story.open()
    client = api("call_center_agent")

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/handoffs/?{query}")
        assert response.status_code == 200, response.content
        return {h["id"] for h in response.json()["results"]}

    card_handoff = story.open_handoff(pending_card).pk
    assert ids("department=CARD_CENTER") == {card_handoff}
    assert ids("department=CARD_CENTER&status=pending") == {card_handoff}
    assert ids("department=CARD_CENTER&status=accepted") == set()
    assert ids(f"case={pending_card.reference}&status=completed") != set()
    assert ids("breached=true") == set()
    assert len(ids("breached=false")) == 3
    soon = (timezone.now() + timedelta(days=60)).isoformat().replace("+", "%2B")
    assert len(ids(f"due_before={soon}&status=pending")) == 2
    assert ids("from_department=CALL_CENTER") == {card_handoff}
    ordered = client.get("/api/v1/handoffs/?ordering=response_due_at").json()["results"]
    assert [h["response_due_at"] for h in ordered] == sorted(h["response_due_at"] for h in ordered)
    assert_error(client.get("/api/v1/handoffs/?status=lost"), 400, "invalid")


def test_detail(api, story):
    case = story.open()
    handoff = story.open_handoff(case)

    body = api("call_center_agent").get(f"/api/v1/handoffs/{handoff.pk}/").json()

    assert (body["id"], body["case"], body["status"], body["sla"]["clock"]) == (
        handoff.pk,
        case.reference,
        "pending",
        "response",
    )
    assert_error(api("card_center_agent").get(f"/api/v1/handoffs/{handoff.pk}/"), 404)
    assert_error(api("call_center_agent").get("/api/v1/handoffs/999999/"), 404)
    assert_error(api("call_center_agent").get("/api/v1/handoffs/99999999999999999999999/"), 404)
    assert_error(api("call_center_agent").get("/api/v1/handoffs/-1/"), 404)


# -- accept -----------------------------------------------------------------------------------------
def test_accept_once(api, story):
    case = story.open()
    handoff = story.open_handoff(case)
    call = api("call_center_agent")

    response = post(call, handoff, "accept")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["assignee"], body["sla"]["clock"]) == (
        "accepted",
        "call_center_agent",
        "resolution",
    )
    assert body["seconds_to_accept"] is not None
    assert_error(post(call, handoff, "accept"), 409, "handoff_not_pending")


def test_accept_errors(api, story):
    case = story.at_card_center(accepted=False)
    handoff = story.open_handoff(case)

    assert_error(post(api("call_center_agent"), handoff, "accept"), 403, "not_your_department")
    assert_error(post(api("it_agent"), handoff, "accept"), 404, "not_found")
    assert_error(api("card_center_agent").post("/api/v1/handoffs/987654/accept/"), 404)


def test_accept_ignores_the_body(api, story):
    handoff = story.open_handoff(story.open())

    response = api("call_center_agent").post(
        f"/api/v1/handoffs/{handoff.pk}/accept/", "{broken", content_type="application/json"
    )

    assert response.status_code == 200


# -- return -----------------------------------------------------------------------------------------
def test_return_to_the_sender_with_a_reason(api, story):
    case = story.at_card_center(accepted=False)
    handoff = story.open_handoff(case)
    card = api("card_center_agent")

    assert_error(post(card, handoff, "return", {"reason": ""}), 400, "invalid")
    assert_error(post(api("call_center_agent"), handoff, "return", {"reason": "x"}), 403)
    assert_error(post(api("it_agent"), handoff, "return", {"reason": "x"}), 404)

    response = post(card, handoff, "return", {"reason": "不属于信用卡业务"})

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["return_reason"]) == ("returned", "不属于信用卡业务")
    back = story.open_handoff(case)
    assert (back.to_department.code, back.from_department.code) == ("CALL_CENTER", "CARD_CENTER")
    assert_error(post(card, handoff, "return", {"reason": "again"}), 409, "handoff_not_open")


def test_the_intake_has_no_sender_to_return_to(api, story):
    handoff = story.open_handoff(story.open())

    assert_error(
        post(api("call_center_agent"), handoff, "return", {"reason": "x"}), 409, "nothing_to_return_to"
    )


# -- claim ------------------------------------------------------------------------------------------
def test_claim(api, story):
    handoff = story.open_handoff(story.at_card_center(accepted=False))

    response = post(api("card_center_lead"), handoff, "claim")

    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == "card_center_lead"
    assert post(api("card_center_lead"), handoff, "claim").status_code == 200  # no-op for the same person
    assert_error(post(api("card_center_agent"), handoff, "claim"), 409, "handoff_already_claimed")
    assert_error(post(api("call_center_agent"), handoff, "claim"), 403)
    assert_error(post(api("it_agent"), handoff, "claim"), 404)


# -- pause and resume -------------------------------------------------------------------------------
def test_pause_and_resume(api, story):
    case = story.at_card_center()
    handoff = story.open_handoff(case)
    card = api("card_center_agent")

    assert_error(post(card, handoff, "resume"), 409, "handoff_not_paused")
    assert_error(post(card, handoff, "pause", {"cause": "lunch"}), 400, "invalid")
    assert_error(post(api("call_center_agent"), handoff, "pause", {"cause": "customer"}), 403)
    assert_error(post(api("it_agent"), handoff, "pause", {"cause": "customer"}), 404)

    paused = post(card, handoff, "pause", {"cause": "customer", "note": "等待客户提供流水"})

    assert paused.status_code == 200, paused.content
    assert paused.json()["paused"] is True and paused.json()["sla"]["badge"] == "paused"
    assert_error(post(card, handoff, "pause", {"cause": "external"}), 409, "handoff_paused")
    assert_error(post(api("call_center_agent"), handoff, "resume"), 403)
    assert_error(post(api("it_agent"), handoff, "resume"), 404)

    resumed = post(card, handoff, "resume")

    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["paused"] is False
    assert Handoff.objects.get(pk=handoff.pk).pauses.count() == 1


def test_only_an_accepted_handoff_can_be_paused(api, story):
    handoff = story.open_handoff(story.open())

    assert_error(
        post(api("call_center_agent"), handoff, "pause", {"cause": "customer"}), 409, "handoff_not_accepted"
    )
