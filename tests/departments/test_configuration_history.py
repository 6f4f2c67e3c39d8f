"""Configuration changes keep their history: who, when, before and after, for calendars, holidays,
departments, memberships, processes, stages, targets, routes and KPIs; the quality office and the
auditors read it in the admin, nobody else does, and on PostgreSQL nobody rewrites it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.test import Client

from departments.history import configuration_changes, tracked_history_models
from evaluations.models import Kpi
from processes.models import StageTarget

pytestmark = pytest.mark.django_db
URL = "/admin/departments/auditentry/configuration/"


def _user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def org(demo_org):
    from processes.demo import seed_processes

    return seed_processes()


def test_the_tracked_configuration(org):
    assert {m.instance_type._meta.label for m in tracked_history_models()} == {
        "departments.BusinessCalendar",
        "departments.WorkingHours",
        "departments.CalendarException",
        "departments.Department",
        "departments.Membership",
        "processes.ServiceProcess",
        "processes.Stage",
        "processes.StageTarget",
        "processes.Transition",
        "evaluations.Kpi",
    }


def test_a_change_is_kept_with_who_when_before_and_after(org):
    officer = _user("quality_officer")
    target = StageTarget.objects.filter(stage__process__code="COMPLAINT").first()
    target.save()  # the seed bulk-creates targets: this is the copy the change is compared with
    before = target.response_minutes
    target.response_minutes = before + 5
    target._history_user = officer
    target.save(update_fields=["response_minutes"])

    change = next(c for c in configuration_changes() if c.model == str(StageTarget._meta.verbose_name))

    assert (change.user, change.kind) == ("quality_officer", "changed")
    assert change.fields == [("response_minutes", before, before + 5)]


@pytest.mark.parametrize(
    ("username", "status"),
    [("auditor", 200), ("quality_officer", 200), ("card_center_agent", 403), ("card_center_lead", 403)],
)
def test_the_quality_office_and_auditors_read_it_in_the_admin(org, username, status):
    kpi = Kpi.objects.first()
    kpi.weight, kpi._history_user = kpi.weight + Decimal("1"), _user("quality_officer")
    kpi.save()
    client = Client()
    client.force_login(_user(username))

    response = client.get(URL)

    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "quality_officer" in html and "weight" in html


@pytest.mark.postgres
def test_nobody_rewrites_it_on_postgresql(org):
    kpi = Kpi.objects.first()
    kpi.target = (kpi.target or Decimal("0")) + 1
    kpi.save()
    table = Kpi.history.model._meta.db_table
    for sql in (f"UPDATE {table} SET history_change_reason = 'x'", f"DELETE FROM {table}"):  # noqa: S608
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
