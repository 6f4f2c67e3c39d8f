"""A lead bulk-assigns 50 handoffs while a colleague, in another thread with its own connection,
accepts them from the other end of the list: every handoff the colleague took first is reported and
left as the colleague left it; every other one is assigned. PostgreSQL: real row locks."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from departments.models import Department, Membership
from processes import bulk, services
from processes.models import Case, Handoff, ServiceProcess

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _user(username: str):
    return get_user_model().objects.get(username=username)


def test_a_bulk_assignment_of_50_reports_what_a_racing_colleague_accepted_and_overwrites_nothing(demo_org):
    from processes.demo import seed_processes

    seed_processes()
    process = ServiceProcess.objects.get(code="COMPLAINT")
    newcomer = get_user_model().objects.create_user("call_center_newcomer", is_staff=True)
    Membership.objects.create(user=newcomer, department=Department.objects.get(code="CALL_CENTER"))
    agent, lead = _user("call_center_agent"), _user("call_center_lead")
    for i in range(50):
        services.case_open(process=process, title=f"年费争议 {i}", channel=Case.Channel.PHONE, actor=agent)
    ids = list(
        Handoff.objects.filter(status=Handoff.Status.PENDING).order_by("pk").values_list("pk", flat=True)
    )
    assert len(ids) == 50

    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def lead_bulk_assigns():
        try:
            barrier.wait(timeout=30)
            outcome["bulk"] = bulk.handoffs_bulk_assign(handoff_ids=ids, actor=lead, assignee=newcomer)
        finally:
            connection.close()

    def colleague_accepts():
        accepted = []
        try:
            barrier.wait(timeout=30)
            for handoff_id in reversed(ids):
                services.handoff_accept(handoff=handoff_id, actor=agent)
                accepted.append(handoff_id)
        finally:
            outcome["accepted"] = accepted
            connection.close()

    threads = [threading.Thread(target=lead_bulk_assigns), threading.Thread(target=colleague_accepts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)

    results = outcome["bulk"]
    assert [r.handoff_id for r in results] == ids  # one result per item, in order
    assert len(outcome["accepted"]) == 50  # the colleague's accepts all went through
    rows = {h.pk: h for h in Handoff.objects.filter(pk__in=ids)}
    assigned = [r for r in results if r.ok]
    refused = [r for r in results if not r.ok]
    assert assigned and refused, "the two threads crossed"
    for r in refused:
        # Taken by the colleague before the lead's call reached it: reported, and left as it was.
        assert r.code == "handoff_taken"
        assert rows[r.handoff_id].accepted_by_id == agent.pk
        assert rows[r.handoff_id].assignee_id == agent.pk
    for r in assigned:
        # Assigned first; the colleague's accept afterwards keeps the lead's assignee.
        assert r.code == "assigned"
        assert rows[r.handoff_id].assignee_id == newcomer.pk
    assert all(h.status == Handoff.Status.ACCEPTED for h in rows.values())
