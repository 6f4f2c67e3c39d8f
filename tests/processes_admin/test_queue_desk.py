"""The queue a lead runs: "mine" and assignee filters, saved views, bulk claim/assign with a result
per handoff."""

from __future__ import annotations

from processes import bulk
from processes.models import Handoff, SavedQueueView
from tests.processes_admin.conftest import QUEUE_URL, open_handoff, user


def test_mine_shows_only_the_handoffs_assigned_to_me(cases, login):
    mine, other = cases.open(title="我的工单"), cases.open(title="别人的工单")
    bulk.handoff_assign(
        handoff=open_handoff(mine), actor=user("call_center_lead"), assignee=user("call_center_agent")
    )

    page = login("call_center_agent").get(QUEUE_URL + "?assignee=me").content.decode()

    assert mine.reference in page and other.reference not in page
    page = login("call_center_agent").get(QUEUE_URL + "?assignee=none").content.decode()
    assert other.reference in page and mine.reference not in page


def test_a_view_is_saved_per_user_and_opens_the_same_filters(cases, login):
    client = login("call_center_lead")

    response = client.post(
        QUEUE_URL + "save-view/", {"name": "我的紧急", "query": "assignee=me&priority=urgent"}
    )

    assert response.status_code == 302 and response["Location"].endswith("?assignee=me&priority=urgent")
    saved = SavedQueueView.objects.get(user=user("call_center_lead"))
    assert (saved.name, saved.query) == ("我的紧急", "assignee=me&priority=urgent")
    listing = client.get("/admin/processes/savedqueueview/").content.decode()
    assert "我的紧急" in listing and "?assignee=me&amp;priority=urgent" in listing
    # Another user sees none of it.
    assert (
        "我的紧急" not in login("call_center_agent").get("/admin/processes/savedqueueview/").content.decode()
    )


def test_a_lead_bulk_assigns_from_the_queue_and_sees_a_result_per_handoff(cases, login):
    free = [cases.open() for _ in range(3)]
    taken = cases.accepted_intake()  # accepted by call_center_agent: not to be overwritten
    ids = [open_handoff(c).pk for c in [*free, taken]]
    client = login("call_center_lead")

    response = client.post(
        QUEUE_URL, {"action": "bulk_assign", "_selected_action": ids, "index": 0}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302 and "bulk-assign/?ids=" in response["Location"]
    form = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert "4 handoffs selected" in form.content.decode()
    result = client.post(
        QUEUE_URL + "bulk-assign/",
        {"ids": ",".join(map(str, ids)), "assignee": user("call_center_lead").pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    page = result.content.decode()
    assert "3 done, 1 refused." in page
    assert "Someone else has taken this handoff meanwhile." in page
    assert Handoff.objects.get(pk=open_handoff(taken).pk).assignee == user("call_center_agent")
    assert all(open_handoff(c).assignee == user("call_center_lead") for c in free)


def test_only_a_lead_assigns_and_only_to_members_of_the_receiving_department(cases):
    handoff = open_handoff(cases.open())

    refused = bulk.handoffs_bulk_assign(
        handoff_ids=[handoff.pk], actor=user("call_center_agent"), assignee=user("call_center_agent")
    )
    assert refused[0].code == "assign_needs_lead"
    refused = bulk.handoffs_bulk_assign(
        handoff_ids=[handoff.pk], actor=user("call_center_lead"), assignee=user("card_center_agent")
    )
    assert refused[0].code == "assignee_not_member"
    assert Handoff.objects.get(pk=handoff.pk).assignee is None


def test_bulk_claim_takes_the_free_ones_and_reports_the_others(cases, login):
    free, claimed = cases.open(), cases.accepted_intake()
    results = bulk.handoffs_bulk_claim(
        handoff_ids=[open_handoff(free).pk, open_handoff(claimed).pk], actor=user("call_center_lead")
    )
    assert [(r.ok, r.code) for r in results] == [(True, "claimed"), (False, "handoff_already_claimed")]


def test_a_handoff_outside_the_leads_departments_is_not_found_and_not_named(cases, login):
    elsewhere = cases.at_card_center()  # never at the risk department
    client = login("risk_lead")

    page = client.post(
        QUEUE_URL + "bulk-assign/",
        {"ids": str(open_handoff(elsewhere).pk), "assignee": user("risk_agent").pk},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()

    assert "0 done, 1 refused." in page
    assert elsewhere.reference not in page
    assert open_handoff(elsewhere).assignee is None
