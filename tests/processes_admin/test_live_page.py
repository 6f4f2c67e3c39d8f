"""The live operations page: its figures, its scope (leads and the quality office), the same number
of queries for 2 or 20 departments, and its JSON endpoint for the refresh."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments.models import BusinessCalendar, Department
from tests.processes_admin.conftest import open_handoff, user

LIVE = "/admin/processes/handoff/live/"
DATA = "/admin/processes/handoff/live/data/"


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_live_page_costs_the_same_queries_for_2_or_20_departments(cases, login):
    Department.objects.exclude(code__in=["CALL_CENTER", "CARD_CENTER"]).update(is_active=False)
    cases.open()
    cases.at_card_center()
    client = login("quality_officer")
    client.get(LIVE)  # warm up per-process caches
    with_2 = count(client, LIVE)
    data_2 = count(client, DATA)
    assert client.get(DATA).json()["departments"].__len__() == 2

    calendar = BusinessCalendar.objects.first()
    for i in range(18):
        Department.objects.create(code=f"BRANCH_{i}", name=f"支行 {i}", calendar=calendar)
    for _ in range(5):
        cases.at_card_center(accepted=True)
    assert len(client.get(DATA).json()["departments"]) == 20
    assert count(client, LIVE) == with_2
    assert count(client, DATA) == data_2


def test_the_figures_per_department(cases, login, ago):
    cases.open(at=ago(days=2))  # pending at the call center for two days: breached by now
    accepted = cases.at_card_center(accepted=True)
    client = login("quality_officer")

    rows = {d["code"]: d for d in client.get(DATA).json()["departments"]}

    assert rows["CALL_CENTER"]["open"] == 1 and rows["CALL_CENTER"]["pending"] == 1
    assert rows["CALL_CENTER"]["ageing"]["1d_to_3d"] == 1
    assert rows["CARD_CENTER"]["open"] == 1 and rows["CARD_CENTER"]["pending"] == 0
    assert rows["CARD_CENTER"]["ageing"]["under_4h"] == 1
    today = client.get(DATA).json()["today"]
    assert sum(today["arrivals"]) == 2  # today's case: its intake and its forward to the card center
    assert sum(today["completions"]) == 1  # the call center completed its handoff by forwarding
    assert open_handoff(accepted).to_department.code == "CARD_CENTER"


def test_leads_and_the_quality_office_see_it_agents_do_not(cases, login):
    page = login("card_center_lead").get(LIVE)
    assert page.status_code == 200
    assert "<script" in page.content.decode() and "processes/live.js" in page.content.decode()
    assert [d["code"] for d in login("card_center_lead").get(DATA).json()["departments"]] == ["CARD_CENTER"]
    assert login("card_center_agent").get(LIVE).status_code == 403
    assert user("quality_officer")
