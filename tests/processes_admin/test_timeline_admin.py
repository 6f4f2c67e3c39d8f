"""The timeline is append-only in the admin too: readable within the case scope, changeable by nobody."""

import pytest

from processes.models import CaseEvent
from tests.processes_admin.conftest import user

pytestmark = pytest.mark.django_db

EVENTS_URL = "/admin/processes/caseevent/"


@pytest.mark.parametrize("username", ["admin", "quality_officer", "call_center_agent"])
def test_nobody_adds_changes_or_deletes_an_event_not_even_the_superuser(cases, login, username):
    case = cases.open()
    event = CaseEvent.objects.filter(case=case).first()
    client = login(username)
    change_url = f"{EVENTS_URL}{event.pk}/change/"

    page = client.get(change_url)
    assert page.status_code == 200  # a read-only view
    assert 'name="_save"' not in page.content.decode()
    assert not page.context["has_change_permission"]
    assert client.post(change_url, {"kind": "comment", "payload": "{}"}).status_code == 403
    assert client.get(f"{EVENTS_URL}{event.pk}/delete/").status_code == 403
    assert client.post(f"{EVENTS_URL}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{EVENTS_URL}add/").status_code == 403
    assert client.post(
        EVENTS_URL, {"action": "delete_selected", "_selected_action": [event.pk]}
    ).status_code in (
        200,
        302,
    )
    assert CaseEvent.objects.filter(case=case).count() == 2
    event.refresh_from_db()
    assert event.kind == CaseEvent.Kind.CREATED


def test_events_are_scoped_like_cases(cases, login):
    mine = cases.open()
    theirs = cases.open(process="REGULATOR_COMPLAINT", actor="compliance_agent")
    their_event = CaseEvent.objects.filter(case=theirs).first()

    listed = login("call_center_agent").get(EVENTS_URL).context["cl"].result_list

    assert {e.case_id for e in listed} == {mine.pk}
    assert login("call_center_agent").get(f"{EVENTS_URL}{their_event.pk}/change/").status_code == 404
    assert login("auditor").get(f"{EVENTS_URL}{their_event.pk}/change/").status_code == 200
    assert {e.case_id for e in login("auditor").get(EVENTS_URL).context["cl"].result_list} == {
        mine.pk,
        theirs.pk,
    }


def test_the_event_list_costs_the_same_queries_whatever_its_length(cases, login, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from processes import services

    case = cases.open()
    client = login("call_center_agent")
    client.get(EVENTS_URL)
    with CaptureQueriesContext(connection) as few:
        client.get(EVENTS_URL)
    for i in range(20):
        services.case_comment(case=case, actor=user("call_center_agent"), text=f"note {i}")
    with django_assert_num_queries(len(few)):
        client.get(EVENTS_URL)
