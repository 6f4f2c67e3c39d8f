"""Finding a customer's cases by the full phone or customer number: exact match through the blind
index, within the caller's scope, every lookup in the audit log, malformed input a 400."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments.models import AuditEntry

PHONE = "13812345678"


def _refs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["reference"] for row in response.json()["results"])


def test_the_full_phone_finds_the_customers_cases_in_any_spelling(api, story):
    mine = [story.open(customer_phone=PHONE), story.open(customer_phone="+86 138-1234-5678")]
    story.open(customer_phone="13900001111", customer_id="C-OTHER")
    agent = api("call_center_agent")

    for spelling in (PHONE, "+86 138 1234 5678", "0086-138-1234-5678"):
        assert _refs(agent.get("/api/v1/cases/", {"customer_phone": spelling})) == sorted(
            c.reference for c in mine
        )
    # Exact match only: a prefix finds nothing.
    assert _refs(agent.get("/api/v1/cases/", {"customer_phone": "1381234567"})) == []


def test_the_customer_number_finds_the_cases(api, story):
    case = story.open(customer_id="C-000999", customer_phone="")
    story.open(customer_id="C-000998")

    assert _refs(api("call_center_agent").get("/api/v1/cases/", {"customer_id": "c-000999"})) == [
        case.reference
    ]


def test_a_malformed_phone_is_a_400_naming_the_field(api, story):
    story.open()

    response = api("call_center_agent").get("/api/v1/cases/", {"customer_phone": "12ab"})

    assert response.status_code == 400, response.content
    assert "customer_phone" in response.json()["fields"]
    assert "digits" in response.json()["fields"]["customer_phone"][0]


def test_a_lookup_outside_the_callers_scope_finds_nothing(api, story):
    # The case stays with the call center: the card center never handled it.
    story.open()

    assert _refs(api("card_center_agent").get("/api/v1/cases/", {"customer_phone": PHONE})) == []
    assert _refs(api("call_center_agent").get("/api/v1/cases/", {"customer_phone": PHONE})) != []


def test_every_lookup_is_audited_without_the_number(api, story):
    story.open()
    agent = api("call_center_agent")

    agent.get("/api/v1/cases/", {"customer_phone": PHONE})
    agent.get("/api/v1/cases/", {"customer_id": "C-000123456"})

    rows = list(AuditEntry.objects.filter(kind=AuditEntry.Kind.CUSTOMER_LOOKUP).order_by("pk"))
    assert [(r.username, r.detail["via"], r.detail["found"]) for r in rows] == [
        ("call_center_agent", "api", 1),
        ("call_center_agent", "api", 1),
    ]
    assert all(PHONE not in str(r.detail) + r.object_id for r in rows)


def test_the_lookup_costs_the_same_queries_for_two_cases_or_six(api, story):
    agent = api("call_center_agent")
    story.open()
    story.open()
    agent.get("/api/v1/cases/", {"customer_phone": PHONE})  # warm: the token, the calendars
    with CaptureQueriesContext(connection) as two:
        assert len(_refs(agent.get("/api/v1/cases/", {"customer_phone": PHONE}))) == 2
    for _ in range(4):
        story.open()
    with CaptureQueriesContext(connection) as six:
        assert len(_refs(agent.get("/api/v1/cases/", {"customer_phone": PHONE}))) == 6

    assert len(six) == len(two)


@pytest.mark.parametrize("field", ["customer_phone", "customer_id"])
def test_the_answer_masks_the_customer_as_before(api, story, field):
    story.open()
    value = PHONE if field == "customer_phone" else "C-000123456"

    row = api("call_center_agent").get("/api/v1/cases/", {field: value}).json()["results"][0]

    assert row["customer"]["masked"] is True
    assert row["customer"]["phone"] != PHONE
