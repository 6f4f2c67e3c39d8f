"""The OpenAPI schema states the limits the API enforces, and the API refuses what the schema does
not allow: pages from 1, page sizes 1–200, booleans as true/false, a parameter that is present has a
value, dates with a year 1900–2999, text as strings without NUL."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(org):
    client = APIClient()
    client.force_authenticate(org.departments["CALL_CENTER"].memberships.first().user)
    return client.get("/api/schema/?format=json").json()


def _parameter(schema, path: str, name: str) -> dict:
    return next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)["schema"]


def test_the_schema_bounds_pages_dates_and_text(schema):
    assert _parameter(schema, "/api/v1/cases/", "page") == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**31 - 1,
    }
    assert _parameter(schema, "/api/v1/cases/", "page_size") == {
        "type": "integer",
        "minimum": 1,
        "maximum": 200,
    }
    assert _parameter(schema, "/api/v1/cases/changes/", "page_size")["maximum"] == 200
    assert _parameter(schema, "/api/v1/cases/", "created_since")["pattern"] == "^(19[0-9]{2}|2[0-9]{3})-"
    assert _parameter(schema, "/api/v1/evaluations/", "period_start")["format"] == "date"
    assert _parameter(schema, "/api/v1/departments/", "parent")["pattern"] == "^[^\\x00]*$"
    assert _parameter(schema, "/api/v1/actions/", "review")["minimum"] == 1
    comment = schema["components"]["schemas"]["CommentInputRequest"]["properties"]["text"]
    assert comment["pattern"] == "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
    responses = schema["paths"]["/api/v1/cases/"]["post"]["responses"]
    assert {"413", "414"} <= set(responses)


@pytest.mark.parametrize(
    "query",
    [
        "page_size=2.5",
        "page_size=0",
        "page_size=201",
        "page=0",
        "page=x",
        "breached=maybe",
        "breached=",
        "status=",
    ],
)
def test_what_the_schema_does_not_allow_is_a_400(api, org, query):
    assert_error(api("call_center_agent").get(f"/api/v1/handoffs/?{query}"), 400)


def test_a_number_is_not_text(api, story):
    case = story.open()

    response = api("call_center_agent").post(
        f"/api/v1/cases/{case.reference}/comments/", {"text": 5}, format="json"
    )

    assert "text" in assert_error(response, 400)["fields"]
