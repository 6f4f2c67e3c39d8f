"""Every list endpoint costs the same number of queries for 10 rows as for 100 (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments.models import Department, Membership
from processes import services
from processes.models import Priority, ServiceProcess, Stage, StageTarget, Transition
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

ROWS = 105


def queries_for(client, url: str, expected_rows: int) -> int:
    client.get(url)  # warm-up: the first request of a test may fill caches (content types)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == expected_rows
    return len(captured)


def assert_flat(client, path: str, *, most: int) -> None:
    joiner = "&" if "?" in path else "?"
    small = queries_for(client, f"{path}{joiner}page_size=10", 10)
    large = queries_for(client, f"{path}{joiner}page_size=100", 100)
    assert small == large, f"{path}: {small} queries for 10 rows, {large} for 100"
    assert large <= most, f"{path}: {large} queries"


@pytest.fixture
def many_cases(story, org):
    """ROWS cases in different states and processes, all passed through the call center."""
    cases = []
    for n in range(ROWS):
        case = story.open(
            process=("COMPLAINT", "APP_INCIDENT", "CARD_DISPUTE")[n % 3], priority=Priority.values[n % 4]
        )
        if n % 2:
            story.accept(case, "call_center_agent")
        cases.append(case)
    return cases


def test_cases_list(api, many_cases):
    assert_flat(api("call_center_agent"), "/api/v1/cases/", most=12)
    assert_flat(api("quality_officer"), "/api/v1/cases/?ordering=due_at", most=12)


def test_cases_changes_feed(api, many_cases):
    assert_flat(api("call_center_agent"), "/api/v1/cases/changes/", most=12)


def test_events_feed(api, many_cases):
    assert_flat(api("call_center_agent"), "/api/v1/events/", most=6)
    assert_flat(api("quality_officer"), "/api/v1/events/", most=6)


def test_handoffs_list(api, many_cases):
    assert_flat(api("call_center_agent"), "/api/v1/handoffs/", most=12)
    assert_flat(api("quality_officer"), "/api/v1/handoffs/?ordering=response_due_at", most=12)


def test_case_events_feed(api, story, user):
    case = story.open()
    agent = user("call_center_agent")
    for n in range(ROWS):
        services.case_comment(case=case, actor=agent, text=f"note {n}")

    assert_flat(api("call_center_agent"), f"/api/v1/cases/{case.reference}/events/", most=8)


def test_departments_list(api, org, user):
    calendar = org.departments["IT"].calendar
    officer = user("quality_officer")
    for n in range(ROWS):
        department = DepartmentFactory(
            code=f"SUB_BRANCH_{n:03d}", calendar=calendar, parent=org.departments["BRANCH"]
        )
        Membership.objects.create(user=officer, department=department, role=Membership.Role.INSPECTOR)
    assert Department.objects.count() > 100

    assert_flat(api("quality_officer"), "/api/v1/departments/", most=8)


def test_processes_list(api, org):
    department = org.departments["CARD_CENTER"]
    for n in range(ROWS):
        process = ServiceProcess.objects.create(
            code=f"P{n:03d}",
            name=f"Process {n}",
            category=ServiceProcess.Category.ACCOUNT_SERVICE,
            reference_prefix="P",
        )
        first, last = (
            Stage.objects.create(
                process=process, code=code, name=code, department=department, order=i, is_initial=not i
            )
            for i, code in enumerate(["A", "B"])
        )
        StageTarget.objects.bulk_create(
            StageTarget(stage=s, priority=p, response_minutes=10, resolution_minutes=60)
            for s in (first, last)
            for p in Priority.values
        )
        Transition.objects.create(process=process, from_stage=first, to_stage=last)

    assert_flat(api("it_agent"), "/api/v1/processes/", most=10)
