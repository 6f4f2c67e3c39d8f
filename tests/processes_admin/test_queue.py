"""The staff's work queue: open handoffs of their departments, the most urgent first, with SLA badges."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments.models import Department
from processes import services
from processes.models import Handoff, ServiceProcess
from tests.processes_admin.conftest import QUEUE_URL, open_handoff, user

pytestmark = pytest.mark.django_db


def queue(client, query: str = "") -> list[Handoff]:
    response = client.get(f"{QUEUE_URL}{query}")
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def references(handoffs) -> list[str]:
    return [h.case.reference for h in handoffs]


def test_an_agent_sees_the_handoffs_of_their_department_and_not_another_ones(cases, login):
    at_call_center = cases.open()
    at_card_center = cases.at_card_center()

    listed = references(queue(login("call_center_agent")))

    assert listed == [at_call_center.reference]
    assert references(queue(login("card_center_agent"))) == [at_card_center.reference]


def test_the_queue_lists_only_open_handoffs(cases, login):
    cases.closed()
    resolved = cases.resolved()  # its call-back handoff waits at the call center

    handoffs = queue(login("call_center_agent"))

    assert references(handoffs) == [resolved.reference]
    assert {h.status for h in handoffs} == {Handoff.Status.PENDING}


def test_the_queue_is_sorted_by_the_due_time_of_the_running_clock(cases, login, ago):
    # Accepted an hour ago: its response was due long ago, but its resolution clock (2 h) runs now.
    accepted = cases.accepted_intake(at=ago(hours=1))
    soon = cases.open(at=ago(minutes=10))  # response due in 5 minutes
    later = cases.open()  # response due in 15 minutes

    listed = queue(login("call_center_agent"))

    assert references(listed) == [soon.reference, later.reference, accepted.reference]
    dues = [h.sla.due_at for h in listed]
    assert dues == sorted(dues)


def test_the_badge_says_breached_due_soon_or_on_time(cases, login, ago):
    overdue = cases.open(at=ago(days=2))
    soon = cases.open(at=ago(minutes=13))  # 2 of the 15 minutes left: below the 20% that remain
    fresh = cases.open()

    response = login("call_center_agent").get(QUEUE_URL)

    badges = {h.case.reference: h.sla.badge for h in response.context["cl"].result_list}
    assert badges == {overdue.reference: "breached", soon.reference: "due_soon", fresh.reference: "on_time"}
    html = response.content.decode()
    assert html.count('class="sla-badge sla-breached"') == 1 + 1  # the row and the legend
    assert html.count('class="sla-badge sla-due_soon"') == 1 + 1
    # How overdue, in words rather than a negative "-47:59" (24×7 call center: 47 hours and more).
    assert "-47:" not in html
    assert re.search(
        r"overdue by 4[78] h \d\d min",
        login("call_center_agent").get(QUEUE_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode(),
    )


def test_a_paused_handoff_shows_paused(cases, login):
    case = cases.accepted_intake()
    services.handoff_pause(handoff=open_handoff(case), actor=user("call_center_agent"), cause="customer")

    (handoff,) = queue(login("call_center_agent"))

    assert handoff.sla.badge == "paused"


def test_the_filters_narrow_the_queue(cases, login, ago):
    overdue = cases.open(at=ago(days=2))
    accepted = cases.accepted_intake()
    urgent = cases.open(priority="urgent")
    dispute = cases.open(process="CARD_DISPUTE")
    client = login("call_center_agent")

    assert references(queue(client, "?breached=yes")) == [overdue.reference]
    assert set(references(queue(client, "?breached=no"))) == {
        accepted.reference,
        urgent.reference,
        dispute.reference,
    }
    assert references(queue(client, "?status=accepted")) == [accepted.reference]
    assert references(queue(client, "?priority__exact=urgent")) == [urgent.reference]
    process = ServiceProcess.objects.get(code="CARD_DISPUTE")
    assert references(queue(client, f"?process={process.pk}")) == [dispute.reference]
    assert references(queue(client, "?q=" + urgent.reference)) == [urgent.reference]


def test_the_department_filter_offers_only_the_users_departments(cases, login):
    response = login("call_center_agent").get(QUEUE_URL)

    department_filter = next(
        f for f in response.context["cl"].filter_specs if getattr(f, "parameter_name", "") == "department"
    )
    assert [pk for pk, _ in department_filter.lookup_choices] == [
        Department.objects.get(code="CALL_CENTER").pk
    ]


def test_the_quality_office_and_auditors_see_every_department(cases, login):
    at_call_center = cases.open()
    at_card_center = cases.at_card_center()
    card_center = Department.objects.get(code="CARD_CENTER")

    for username in ("quality_officer", "auditor"):
        client = login(username)
        assert set(references(queue(client))) == {at_call_center.reference, at_card_center.reference}
        assert references(queue(client, f"?department={card_center.pk}")) == [at_card_center.reference]


def test_rows_link_to_the_case_page_and_a_handoff_page_redirects_there(cases, login):
    case = cases.open()
    client = login("call_center_agent")

    assert f'href="/admin/processes/case/{case.pk}/change/"' in client.get(QUEUE_URL).content.decode()
    handoff = open_handoff(case)
    response = client.get(f"/admin/processes/handoff/{handoff.pk}/change/")
    assert response.status_code == 302
    assert response.url == f"/admin/processes/case/{case.pk}/change/#handoff-{handoff.pk}"
    assert login("risk_agent").get(f"/admin/processes/handoff/{handoff.pk}/change/").status_code == 404


def test_staff_cannot_add_change_or_delete_handoffs_in_the_admin(cases, login):
    handoff = open_handoff(cases.open())
    client = login("quality_officer")

    assert client.get("/admin/processes/handoff/add/").status_code == 403
    assert client.post(f"/admin/processes/handoff/{handoff.pk}/delete/").status_code == 403


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("username", ["call_center_agent", "quality_officer"])
def test_the_queue_costs_the_same_queries_for_2_or_20_handoffs(cases, login, ago, username):
    def add_cases(n: int) -> None:
        for i in range(n):
            if i % 3 == 0:
                cases.open(at=ago(days=1))
            elif i % 3 == 1:
                cases.accepted_intake(priority="urgent")
            else:
                cases.at_card_center()  # another department, another calendar

    client = login(username)
    add_cases(2)
    client.get(QUEUE_URL)  # warm up per-process caches (content types, ...)
    with_2 = count_queries(client, QUEUE_URL)
    add_cases(18)
    with_20 = count_queries(client, QUEUE_URL)

    assert with_20 == with_2
    assert len(queue(client)) >= 7  # the agent sees the call center's share, the officer all 20


def test_sorting_facets_and_odd_urls_do_not_break_the_queue(cases, login, ago):
    cases.open(at=ago(days=2))
    cases.accepted_intake()
    client = login("quality_officer")

    for query in ("?o=-8", "?o=1", "?o=11", "?_facets=True", "?_facets=True&breached=yes", "?process=x"):
        assert client.get(f"{QUEUE_URL}{query}").status_code in (200, 302), query
    assert client.get("/admin/processes/handoff/nonsense/change/").status_code == 404
