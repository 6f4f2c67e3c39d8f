"""A state change through the API costs the authentication's one query and the service's own
statements, nothing more: the scope check is a column of the service's locking statement, the
permissions come from the process's memory and the answer is built from what the service returns."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.models import Case
from tests.processes.test_statement_counts import LIFE

pytestmark = pytest.mark.django_db

# The services' own counts and the token lookup.
SERVICE = LIFE
CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")


def _post(client, url: str, body: dict | None = None):
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, body or {}, format="json")
    assert response.status_code in (200, 201), response.content
    sql = [q["sql"] for q in captured.captured_queries if q["sql"].split()[0].upper() not in CONTROL]
    return response.json(), sql


def _life(call, card) -> dict[str, list[str]]:
    spent = {}
    case, spent["open"] = _post(
        call,
        "/api/v1/cases/",
        {
            "process": "COMPLAINT",
            "title": "年费争议",
            "channel": "phone",
            "customer_name": "张小三",
            "customer_phone": "13812345678",
            "source": "crm",
            "external_id": uuid.uuid4().hex,
        },
    )
    ref = case["reference"]
    handoff = case["open_handoff"]["id"]
    _, spent["accept"] = _post(call, f"/api/v1/handoffs/{handoff}/accept/")
    forwarded, spent["forward"] = _post(
        call, f"/api/v1/cases/{ref}/forward/", {"to_stage": "INVESTIGATE_CARD"}
    )
    _, spent["accept_card"] = _post(card, f"/api/v1/handoffs/{forwarded['open_handoff']['id']}/accept/")
    resolved, spent["resolve"] = _post(
        card, f"/api/v1/cases/{ref}/resolve/", {"resolution": "已退还年费", "recovery_measure": "apology"}
    )
    _, spent["accept_call_back"] = _post(call, f"/api/v1/handoffs/{resolved['open_handoff']['id']}/accept/")
    closed, spent["close"] = _post(call, f"/api/v1/cases/{ref}/close/")
    assert closed["status"] == Case.Status.CLOSED
    assert closed["open_handoff"] is None
    return spent


def test_the_api_adds_only_the_authentication_to_each_state_change(api):
    call, card = api("call_center_agent"), api("card_center_agent")
    _life(call, card)  # warm: the process's calendars, definitions and the users' permissions
    spent = _life(call, card)
    for step, sql in spent.items():
        assert "departments_apikey" in sql[0], (step, sql[0])
        assert len(sql) == SERVICE[step] + 1, (step, sql)


def test_the_answer_is_the_state_the_change_left(api):
    """Built without reading again, the answer still shows what a fresh read shows."""
    call = api("call_center_agent")
    case, _ = _post(
        call,
        "/api/v1/cases/",
        {"process": "COMPLAINT", "title": "年费争议", "channel": "phone", "customer_phone": "13812345678"},
    )
    accepted, _ = _post(call, f"/api/v1/handoffs/{case['open_handoff']['id']}/accept/")
    assert accepted == call.get(f"/api/v1/handoffs/{accepted['id']}/").json() | {"sla": accepted["sla"]}
    forwarded, _ = _post(
        call, f"/api/v1/cases/{case['reference']}/forward/", {"to_stage": "INVESTIGATE_CARD"}
    )
    fresh = call.get(f"/api/v1/cases/{case['reference']}/").json()
    for answer in (forwarded, fresh):
        answer["open_handoff"].pop("sla")
    assert forwarded == fresh
    assert fresh["open_handoff"]["to_department"] == "CARD_CENTER"
