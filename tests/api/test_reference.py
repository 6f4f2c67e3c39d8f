"""GET /departments/, /departments/{code}/, /processes/, /processes/{code}/."""

from __future__ import annotations

import pytest

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_departments_are_the_callers_own_with_members_roles(api, org):
    body = api("card_center_agent").get("/api/v1/departments/").json()

    assert [d["code"] for d in body["results"]] == ["CARD_CENTER"]
    card = body["results"][0]
    assert card["calendar"] == {
        "code": "CN_HEAD_OFFICE",
        "name": card["calendar"]["name"],
        "time_zone": "Asia/Shanghai",
        "always_open": False,
    }
    assert {(m["username"], m["role"]) for m in card["members"]} == {
        ("card_center_agent", "member"),
        ("card_center_lead", "lead"),
    }


def test_the_quality_office_sees_every_department(api, org):
    body = api("quality_officer").get("/api/v1/departments/?ordering=-code").json()

    codes = [d["code"] for d in body["results"]]
    assert codes == sorted(org.departments, reverse=True)
    assert len(codes) == 8


def test_department_detail_is_404_outside_the_callers_scope(api, org):
    assert api("card_center_agent").get("/api/v1/departments/CARD_CENTER/").status_code == 200
    assert_error(api("card_center_agent").get("/api/v1/departments/RISK/"), 404, "not_found")
    assert_error(api("card_center_agent").get("/api/v1/departments/NOPE/"), 404, "not_found")
    assert api("quality_officer").get("/api/v1/departments/RISK/").json()["code"] == "RISK"


def test_processes_with_stages_targets_and_transitions(api, org):
    client = api("it_agent")

    listing = client.get("/api/v1/processes/").json()
    complaint = client.get("/api/v1/processes/COMPLAINT/").json()

    assert [p["code"] for p in listing["results"]] == sorted(org.processes)
    assert complaint["e2e_hours"] == {"urgent": 8, "high": 24, "normal": 56, "low": 112}
    intake = complaint["stages"][0]
    assert (intake["code"], intake["department"], intake["is_initial"]) == ("INTAKE", "CALL_CENTER", True)
    assert {"priority": "urgent", "response_minutes": 5, "resolution_minutes": 30} in intake["targets"]
    assert {
        "from_stage": "INTAKE",
        "to_stage": "INVESTIGATE_CARD",
        "is_return": False,
        "name": "",
    } in complaint["transitions"]
    assert client.get("/api/v1/processes/?category=card_dispute").json()["count"] == 1
    assert_error(client.get("/api/v1/processes/NOPE/"), 404, "not_found")
    assert_error(client.get("/api/v1/processes/?category=other"), 400, "invalid")
