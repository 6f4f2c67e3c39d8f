"""Linked cases: a duplicate closed into its primary leaves one open case, both timelines kept, and
the KPIs count the complaint once; parent/child links show on both pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import StateConflict
from departments.models import Department
from evaluations import kpis
from processes import links
from processes.models import Case, CaseEvent, Handoff
from tests.processes_admin.conftest import case_url, user


def test_closing_a_duplicate_leaves_one_open_case_and_the_kpis_count_it_once(cases, login):
    primary = cases.accepted_intake(title="电话投诉：年费")
    duplicate = cases.accepted_intake(title="App 投诉：年费")
    window = kpis.Window(
        timezone.now() - timedelta(hours=1),
        timezone.now() + timedelta(hours=1),
        timezone.now() + timedelta(hours=1),
    )
    call_center = Department.objects.get(code="CALL_CENTER").pk
    assert kpis._handoff_counts(window)[call_center]["received"] == 2

    client = login("call_center_agent")
    response = client.post(
        f"/admin/processes/case/{duplicate.pk}/link/", {"kind": "duplicate_of", "target": primary.reference}
    )

    assert response.status_code == 302
    open_cases = Case.objects.filter(pk__in=[primary.pk, duplicate.pk], status__in=["open", "in_progress"])
    assert list(open_cases) == [primary]
    assert Case.objects.get(pk=duplicate.pk).status == Case.Status.CLOSED
    assert not Handoff.objects.filter(case=duplicate, status__in=Handoff.OPEN_STATUSES).exists()
    assert kpis._handoff_counts(window)[call_center]["received"] == 1
    # Both timelines are kept, each saying what happened.
    assert CaseEvent.objects.filter(case=duplicate, kind=CaseEvent.Kind.CLOSED_AS_DUPLICATE).count() == 1
    assert CaseEvent.objects.filter(case=primary, kind=CaseEvent.Kind.LINKED).count() == 1
    assert CaseEvent.objects.filter(case=duplicate, kind=CaseEvent.Kind.CREATED).exists()
    page = client.get(case_url(primary), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert duplicate.reference in page and "has the duplicate" in page
    page = client.get(case_url(duplicate), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert primary.reference in page and "duplicate of" in page


def test_a_closed_case_or_a_duplicate_cannot_be_closed_again(cases):
    primary, duplicate = cases.open(), cases.open()
    links.case_close_as_duplicate(case=duplicate, primary=primary, actor=user("call_center_agent"))

    with pytest.raises(StateConflict) as again:
        links.case_close_as_duplicate(case=duplicate, primary=primary, actor=user("call_center_agent"))
    assert again.value.code == "case_not_open"
    third = cases.open()
    with pytest.raises(StateConflict) as into_duplicate:
        links.case_close_as_duplicate(case=third, primary=duplicate, actor=user("call_center_agent"))
    assert into_duplicate.value.code == "primary_is_duplicate"


def test_a_case_outside_the_users_departments_cannot_be_named_as_primary(cases):
    mine = cases.open()
    with pytest.raises(Exception) as outside:
        links.case_close_as_duplicate(case=mine, primary="ZZ-202601-000001", actor=user("call_center_agent"))
    assert getattr(outside.value, "code", "") == "not_found"


def test_a_parent_child_link_appears_on_both_pages_and_changes_no_state(cases, login):
    parent, child = cases.open(title="总投诉"), cases.open(title="分项投诉")

    links.case_link_parent(case=child, parent=parent, actor=user("call_center_agent"))

    client = login("call_center_agent")
    assert "parent of" in client.get(case_url(parent), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "child of" in client.get(case_url(child), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert Case.objects.get(pk=child.pk).status == Case.Status.OPEN
