"""An external id is its opener's own: the intake looks only at the caller's ids, so sending someone
else's `source` + `external_id` reveals nothing about their case (no 409, no other case returned),
and the caller's own id sent for another process is a conflict with the caller's own case."""

from __future__ import annotations

import pytest

from processes.models import Case

from .conftest import assert_error

pytestmark = pytest.mark.django_db

INTAKE = {
    "process": "COMPLAINT",
    "title": "年费重复扣收",
    "channel": "phone",
    "customer_name": "李小龙",
    "customer_phone": "13912345678",
    "source": "crm",
    "external_id": "CRM-1001",
}


def test_another_callers_external_id_opens_a_case_of_ones_own_and_says_nothing_of_theirs(api, org):
    theirs = api("call_center_agent").post("/api/v1/cases/", INTAKE, format="json")
    assert theirs.status_code == 201

    mine = api("it_agent").post("/api/v1/cases/", {**INTAKE, "title": "另一件"}, format="json")

    assert mine.status_code == 201, mine.content
    assert mine.json()["reference"] != theirs.json()["reference"]
    assert theirs.json()["reference"] not in mine.content.decode()
    assert mine.json()["title"] == "另一件"
    assert Case.objects.filter(source="crm", external_id="CRM-1001").count() == 2


def test_the_same_external_id_for_another_process_does_not_return_the_other_process_case(api, org):
    client = api("call_center_agent")
    first = client.post("/api/v1/cases/", INTAKE, format="json").json()

    again = client.post("/api/v1/cases/", INTAKE, format="json")
    other_process = client.post("/api/v1/cases/", {**INTAKE, "process": "CARD_DISPUTE"}, format="json")

    assert again.status_code == 200 and again.json()["reference"] == first["reference"]
    body = assert_error(other_process, 409, "external_id_reused")
    assert body["reference"] == first["reference"]  # the caller's own case, which it can read anyway
    assert Case.objects.filter(external_id="CRM-1001").count() == 1


def test_a_stranger_gets_the_same_answer_whether_or_not_the_id_exists(api, org):
    api("call_center_agent").post("/api/v1/cases/", INTAKE, format="json")
    stranger = api("it_agent")

    seen = stranger.post("/api/v1/cases/", INTAKE, format="json")
    unseen = stranger.post("/api/v1/cases/", {**INTAKE, "external_id": "CRM-NEVER-SEEN"}, format="json")

    assert seen.status_code == unseen.status_code == 201
    assert set(seen.json()) == set(unseen.json())
