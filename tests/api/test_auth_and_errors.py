"""Authentication (token and session), throttling per token, and the one exception handler."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from core.api.errors import exception_handler
from core.errors import InvalidInput, StateConflict
from departments.api_keys import api_key_revoke

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_no_credentials_is_401_with_the_scheme_to_use(org):
    response = APIClient().get("/api/v1/cases/")

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_an_unknown_or_revoked_token_is_401(api, user):
    client = api("call_center_agent")
    assert client.get("/api/v1/cases/").status_code == 200

    api_key_revoke(username="call_center_agent")  # revoked in the admin or by command

    assert_error(client.get("/api/v1/cases/"), 401, "authentication_failed")
    bogus = APIClient()
    bogus.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert_error(bogus.get("/api/v1/cases/"), 401, "authentication_failed")


def test_a_token_of_an_inactive_user_is_401(api, user):
    client = api("call_center_agent")
    person = user("call_center_agent")
    person.is_active = False
    person.save(update_fields=["is_active"])

    assert_error(client.get("/api/v1/cases/"), 401, "authentication_failed")


def test_session_authentication_works_and_writes_need_the_csrf_token(user, story):
    case = story.open()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user("call_center_agent"))

    assert client.get(f"/api/v1/cases/{case.reference}/").status_code == 200
    assert_error(client.post(f"/api/v1/cases/{case.reference}/comments/", {"text": "x"}, format="json"), 403)


@pytest.fixture
def three_per_minute(monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    cache.clear()
    yield
    cache.clear()


def test_throttling_is_per_token_and_answers_json_429(api, org, three_per_minute):
    call, card = api("call_center_agent"), api("card_center_agent")

    statuses = [call.get("/api/v1/processes/").status_code for _ in range(4)]
    throttled = call.get("/api/v1/processes/")

    assert statuses == [200, 200, 200, 429]
    body = assert_error(throttled, 429, "throttled")
    assert isinstance(body["retry_after"], int) and body["retry_after"] > 0
    assert int(throttled["Retry-After"]) == body["retry_after"]
    # Another token has its own budget.
    assert card.get("/api/v1/processes/").status_code == 200


def test_unknown_api_urls_answer_json_404(api, org):
    assert_error(api("call_center_agent").get("/api/v1/nothing-here/"), 404, "not_found")
    assert_error(APIClient().get("/api/v2/cases/"), 404, "not_found")


def test_other_urls_keep_the_html_404(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_methods_not_allowed_and_media_types_are_json(api, story):
    case = story.open()
    client = api("call_center_agent")

    assert_error(client.delete(f"/api/v1/cases/{case.reference}/"), 405, "method_not_allowed")
    assert_error(
        client.post(f"/api/v1/cases/{case.reference}/comments/", "text=x", content_type="text/plain"),
        415,
        "unsupported_media_type",
    )


def test_the_handler_maps_domain_errors_with_their_code_status_and_fields():
    from django.utils import translation

    with translation.override("en"):  # the raised message is the English detail
        invalid = exception_handler(
            InvalidInput("Invalid case.", extra={"fields": {"title": ["A title is required."]}}), {}
        )
        conflict = exception_handler(StateConflict("Only a pending handoff…", code="handoff_not_pending"), {})

    assert (invalid.status_code, invalid.data) == (
        400,
        {"code": "invalid", "detail": "Invalid case.", "fields": {"title": ["A title is required."]}},
    )
    assert (conflict.status_code, conflict.data) == (
        409,
        {"code": "handoff_not_pending", "detail": "Only a pending handoff…"},
    )
    assert exception_handler(RuntimeError("boom"), {}) is None  # a real bug stays a 500


ENDPOINTS = [
    ("get", "/api/v1/departments/"),
    ("get", "/api/v1/departments/CARD_CENTER/"),
    ("get", "/api/v1/processes/"),
    ("get", "/api/v1/processes/COMPLAINT/"),
    ("get", "/api/v1/cases/"),
    ("post", "/api/v1/cases/"),
    ("get", "/api/v1/cases/changes/"),
    ("get", "/api/v1/cases/{ref}/"),
    ("get", "/api/v1/cases/{ref}/events/"),
    *[
        ("post", f"/api/v1/cases/{{ref}}/{action}/")
        for action in (
            "forward",
            "resolve",
            "close",
            "reopen",
            "cancel",
            "comments",
            "extend-deadline",
            "compensation-decision",
        )
    ],
    ("get", "/api/v1/handoffs/"),
    ("get", "/api/v1/handoffs/{handoff}/"),
    *[
        ("post", f"/api/v1/handoffs/{{handoff}}/{action}/")
        for action in ("accept", "return", "claim", "pause", "resume")
    ],
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_answers_401_without_credentials(story, method, path):
    case = story.open()
    handoff = story.open_handoff(case)
    url = path.format(ref=case.reference, handoff=handoff.pk)

    response = getattr(APIClient(), method)(url, {}, format="json")

    assert_error(response, 401, "not_authenticated")
