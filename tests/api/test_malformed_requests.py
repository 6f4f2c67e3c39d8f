"""Malformed requests are refused with a 4xx in the API's JSON error format, never a 500 or an HTML
page: nesting beyond any real payload, a body over the size limit, dates the database cannot hold."""

from __future__ import annotations

import pytest

from evaluations.models import CustomerFeedback

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def _nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


@pytest.mark.parametrize("levels", [100, 2_000, 100_000])
def test_deeply_nested_json_is_a_400(api, story, levels):
    case = story.open()

    response = api("call_center_agent").generic(
        "POST", f"/api/v1/cases/{case.reference}/comments/", _nested(levels), content_type="application/json"
    )

    assert_error(response, 400, "parse_error")


def test_a_20_mb_body_is_a_413_in_json(api, story):
    case = story.open()
    body = '{"text": "' + "x" * (20 * 1024 * 1024) + '"}'

    response = api("call_center_agent").generic(
        "POST", f"/api/v1/cases/{case.reference}/comments/", body, content_type="application/json"
    )

    assert_error(response, 413, "request_too_large")


def test_a_large_form_body_without_content_length_check_is_json_too(api, story):
    """A form body past Django's field limits (its own 400) answers in the API's format too."""
    case = story.open()
    body = "&".join(f"f{i}=1" for i in range(2_000))

    response = api("call_center_agent").generic(
        "POST",
        f"/api/v1/cases/{case.reference}/comments/",
        body,
        content_type="application/x-www-form-urlencoded",
    )

    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_an_out_of_range_date_in_a_query_is_a_400(api, org, day):
    client = api("quality_officer")

    for url in (
        f"/api/v1/analytics/handoff-flow/?start={day}&end=2026-11-30",
        f"/api/v1/analytics/handoff-flow/?start=2026-11-01&end={day}",
        f"/api/v1/cases/?created_since={day}T00:00:00Z",
        f"/api/v1/evaluations/?period_start={day}",
        f"/api/v1/evaluations/?period_start_before={day}",
    ):
        assert_error(client.get(url), 400)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_an_out_of_range_date_in_a_body_is_a_400(api, story, day):
    case = story.resolved()

    response = api("quality_officer").post(
        f"/api/v1/cases/{case.reference}/feedback/",
        {"survey_id": "S-1", "csat": 5, "responded_at": f"{day}T00:00:00Z"},
        format="json",
    )

    assert_error(response, 400)
    body = assert_error(response, 400)
    assert "responded_at" in body["fields"]
    assert not CustomerFeedback.objects.filter(case=case).exists()
