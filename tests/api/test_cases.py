"""GET/POST /api/v1/cases/, GET /cases/{reference}/ and the cases-changed feed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from processes.models import Case

from .conftest import assert_error

pytestmark = pytest.mark.django_db

NEW_CASE = {
    "process": "COMPLAINT",
    "title": "年费重复扣收",
    "channel": "phone",
    "priority": "high",
    "customer_name": "李小龙",
    "customer_phone": "13912345678",
    "customer_id": "C-99887766",
    "source": "crm",
    "external_id": "CRM-1001",
}


# -- list -------------------------------------------------------------------------------------------
def test_list_shows_the_cases_of_the_callers_departments_only(api, story):
    at_card = story.at_card_center()
    at_intake = story.open()

    card = api("card_center_agent").get("/api/v1/cases/").json()
    call = api("call_center_agent").get("/api/v1/cases/").json()
    it = api("it_agent").get("/api/v1/cases/").json()

    assert [c["reference"] for c in card["results"]] == [at_card.reference]
    assert {c["reference"] for c in call["results"]} == {at_card.reference, at_intake.reference}
    assert it == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_case_carries_codes_masked_customer_open_handoff_and_sla(api, story):
    case = story.at_card_center(priority="high")

    body = api("card_center_agent").get("/api/v1/cases/").json()["results"][0]

    assert body["reference"] == case.reference
    assert (body["process"], body["stage"], body["department"]) == (
        "COMPLAINT",
        "INVESTIGATE_CARD",
        "CARD_CENTER",
    )
    assert (body["status"], body["priority"], body["channel"]) == ("in_progress", "high", "phone")
    assert body["customer"] == {"id": "*******3456", "name": "张*三", "phone": "138****5678", "masked": True}
    assert body["regulatory_deadline"] == (timezone.localdate() + timedelta(days=15)).isoformat()
    handoff = body["open_handoff"]
    assert handoff["status"] == "accepted"
    assert (handoff["from_department"], handoff["to_department"], handoff["to_stage"]) == (
        "CALL_CENTER",
        "CARD_CENTER",
        "INVESTIGATE_CARD",
    )
    assert handoff["response_breached"] is False and handoff["resolution_breached"] is False
    assert handoff["sla"]["clock"] == "resolution"
    assert handoff["sla"]["badge"] in {"on_time", "due_soon"}
    assert 0 < handoff["sla"]["business_seconds_left"] <= handoff["resolution_target_seconds"]
    # Times are ISO 8601 with their offset.
    for value in (body["due_at"], body["created_at"], handoff["resolution_due_at"], handoff["sla"]["due_at"]):
        assert datetime.fromisoformat(value).utcoffset() is not None


def test_the_quality_office_sees_everything_unmasked(api, story):
    case = story.open()

    body = api("quality_officer").get(f"/api/v1/cases/{case.reference}/").json()

    assert body["customer"] == {
        "id": "C-000123456",
        "name": "张小三",
        "phone": "13812345678",
        "masked": False,
    }


def test_list_filters_orders_and_pages(api, story):
    first = story.open(priority="urgent")
    second = story.at_card_center()
    third = story.open(process="APP_INCIDENT")
    client = api("call_center_agent")

    def refs(query: str) -> list[str]:
        response = client.get(f"/api/v1/cases/?{query}")
        assert response.status_code == 200, response.content
        return [c["reference"] for c in response.json()["results"]]

    assert refs("priority=urgent") == [first.reference]
    assert refs("department=CARD_CENTER") == [second.reference]
    assert refs("process=APP_INCIDENT") == [third.reference]
    assert refs("status=in_progress") == [second.reference]
    assert refs("ordering=created_at") == [first.reference, second.reference, third.reference]
    assert refs("ordering=-created_at") == [third.reference, second.reference, first.reference]
    page = client.get("/api/v1/cases/?ordering=created_at&page_size=2&page=2").json()
    assert page["count"] == 3 and [c["reference"] for c in page["results"]] == [third.reference]
    since = (timezone.now() + timedelta(hours=1)).isoformat()
    assert refs(f"updated_since={since.replace('+', '%2B')}") == []


@pytest.mark.parametrize(
    "query",
    [
        "status=lost",
        "updated_since=yesterday",
        "updated_since=0001-01-01T00:00:00",
        "due_before=9999-12-31T23:59:59%2B14:00",
        "page=0",
        "page=1.5",
        "page_size=2.5",
        "page_size=0",
        "process=" + "x" * 51,
    ],
)
def test_bad_filters_and_pages_are_400_with_fields(api, story, query):
    story.open()

    body = assert_error(api("call_center_agent").get(f"/api/v1/cases/?{query}"), 400, "invalid")

    assert set(body["fields"]) <= {"status", "updated_since", "due_before", "page", "page_size", "process"}
    assert body["fields"]


def test_a_page_past_the_last_is_empty(api, story):
    story.open()

    body = api("call_center_agent").get("/api/v1/cases/?page=999").json()

    assert (body["count"], body["results"], body["next"]) == (1, [], None)


# -- detail -----------------------------------------------------------------------------------------
def test_detail_is_404_outside_the_callers_scope(api, story):
    case = story.open()

    assert api("call_center_agent").get(f"/api/v1/cases/{case.reference}/").status_code == 200
    assert_error(api("card_center_agent").get(f"/api/v1/cases/{case.reference}/"), 404, "not_found")
    assert_error(api("it_agent").get(f"/api/v1/cases/{case.reference}/"), 404, "not_found")
    assert_error(api("call_center_agent").get("/api/v1/cases/CMP-202601-999999/"), 404, "not_found")
    assert_error(api("call_center_agent").get("/api/v1/cases/not a reference/"), 404, "not_found")


def test_detail_includes_description_and_resolution(api, story):
    case = story.resolved()

    body = api("card_center_agent").get(f"/api/v1/cases/{case.reference}/").json()

    assert body["status"] == "resolved"
    assert (body["resolution"], body["recovery_measure"], body["compensation_amount"]) == (
        "年费已减免",
        "fee_waiver",
        None,
    )
    # The call-back handoff to the call center is now open.
    assert body["open_handoff"]["to_stage"] == "CALL_BACK"


# -- open (idempotent intake) -----------------------------------------------------------------------
def test_open_is_201_then_200_with_the_same_case(api, org):
    client = api("call_center_agent")

    created = client.post("/api/v1/cases/", NEW_CASE, format="json")
    again = client.post("/api/v1/cases/", {**NEW_CASE, "title": "ignored"}, format="json")

    assert created.status_code == 201, created.content
    assert again.status_code == 200, again.content
    assert created.json()["reference"] == again.json()["reference"]
    assert again.json()["title"] == NEW_CASE["title"]
    assert Case.objects.filter(source="crm", external_id="CRM-1001").count() == 1
    body = created.json()
    assert body["customer"]["masked"] is True and body["customer"]["name"] == "李*龙"
    assert body["open_handoff"]["to_department"] == "CALL_CENTER"
    assert body["open_handoff"]["status"] == "pending"
    assert body["open_handoff"]["sla"]["clock"] == "response"


def test_open_without_external_id_opens_a_new_case_each_time(api, org):
    client = api("call_center_agent")
    data = {"process": "APP_INCIDENT", "title": "App crashes at login", "channel": "mobile_app"}

    first = client.post("/api/v1/cases/", data, format="json")
    second = client.post("/api/v1/cases/", data, format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["reference"] != second.json()["reference"]


def test_the_opener_reads_its_case_back_even_if_its_department_works_no_intake_queue(api, org):
    """A branch user opens a complaint; the intake is the call center's. The branch user can follow
    what it submitted, and no one else outside the case's departments can."""
    client = api("branch_agent")

    first = client.post("/api/v1/cases/", NEW_CASE, format="json")
    again = client.post("/api/v1/cases/", NEW_CASE, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    reference = first.json()["reference"]
    read = client.get(f"/api/v1/cases/{reference}/")
    assert read.status_code == 200
    assert read.json()["reference"] == reference
    assert [c["reference"] for c in client.get("/api/v1/cases/").json()["results"]] == [reference]
    assert client.get(f"/api/v1/cases/{reference}/events/").status_code == 200
    assert_error(api("it_agent").get(f"/api/v1/cases/{reference}/"), 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"channel": "pigeon"}, "channel"),
        ({"priority": "whenever"}, "priority"),
        ({"process": "NOPE"}, "process"),
        ({"customer_phone": "1" * 33}, "customer_phone"),
        ({"source": ""}, "source"),  # an external id needs its source (the service's rule)
        ({"title": "a\x00b"}, "title"),
    ],
)
def test_open_with_bad_input_is_400_with_the_field(api, org, change, field):
    body = assert_error(
        api("call_center_agent").post("/api/v1/cases/", {**NEW_CASE, **change}, format="json"), 400, "invalid"
    )

    assert field in body["fields"], body


def test_open_with_a_body_that_is_not_an_object_is_400(api, org):
    client = api("call_center_agent")

    assert_error(client.post("/api/v1/cases/", [1, 2], format="json"), 400, "invalid")
    body = assert_error(
        client.post("/api/v1/cases/", "{not json", content_type="application/json"), 400, "parse_error"
    )
    assert body["fields"] == {}


def test_open_an_inactive_process_is_400(api, org):
    org.processes["APP_INCIDENT"].is_active = False
    org.processes["APP_INCIDENT"].save(update_fields=["is_active"])

    body = assert_error(
        api("call_center_agent").post(
            "/api/v1/cases/", {**NEW_CASE, "process": "APP_INCIDENT"}, format="json"
        ),
        400,
        "invalid",
    )
    assert "process" in body["fields"]


def test_open_needs_the_right_to_open_cases(api, org):
    assert_error(api("auditor").post("/api/v1/cases/", NEW_CASE, format="json"), 403, "cannot_open_cases")


def test_open_needs_authentication(client, org):
    assert_error(client.post("/api/v1/cases/", NEW_CASE, content_type="application/json"), 401)


# -- the feed integrations poll ---------------------------------------------------------------------
def test_changes_feed_pages_by_cursor_in_update_order(api, story):
    cases = [story.open() for _ in range(5)]
    story.accept(cases[0], "call_center_agent")  # the first case changes last
    client = api("call_center_agent")

    seen, url = [], "/api/v1/cases/changes/?page_size=2"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        seen += [c["reference"] for c in response.json()["results"]]
        url = response.json()["next"]

    assert seen == [c.reference for c in cases[1:]] + [cases[0].reference]


def test_changes_feed_from_a_time_on(api, story):
    story.open()
    later = story.open()
    later.refresh_from_db()
    client = api("call_center_agent")

    since = later.updated_at.isoformat().replace("+", "%2B")
    body = client.get(f"/api/v1/cases/changes/?updated_since={since}").json()

    assert [c["reference"] for c in body["results"]] == [later.reference]


@pytest.mark.parametrize("cursor", ["garbage", "cD0yMDI2", "cD1ub3QtYS10aW1l", "cD0wMDAxLTAxLTAxKzAwOjAw"])
def test_changes_feed_with_a_bad_cursor_is_400(api, story, cursor):
    story.open()

    body = assert_error(api("call_center_agent").get(f"/api/v1/cases/changes/?cursor={cursor}"), 400)

    assert "cursor" in body["fields"]
