"""The demo seeded on a machine whose clock says a later year: the cases are dated relative to that
clock, the queue shows them with due times around it, and a year the holidays package has no data
for is a warning naming the command to run, never a failed seed."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from departments.demo import holiday_years
from departments.models import CalendarException
from processes.models import Case

pytestmark = pytest.mark.django_db

# 1 March 2028, 10:00 in Shanghai: a Wednesday morning more than a year after the data the package had.
LATER = datetime(2028, 3, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
QUEUE_URL = "/admin/processes/handoff/"


def unpublished_cn_years() -> list[int]:
    """The demo's holiday years the installed holidays package has no official CN schedule for."""
    published = holidays.country_holidays("CN", years=LATER.year).special_public_holidays
    return [year for year in holiday_years(LATER.date()) if year not in published]


@pytest.fixture(scope="module")
def _seeded(django_db_setup, django_db_blocker):
    """`seed_demo` run once at LATER for the module, inside a transaction rolled back afterwards (each
    test runs in a savepoint within it). Its output is the fixture's value."""
    out = StringIO()
    with django_db_blocker.unblock(), transaction.atomic(), time_machine.travel(LATER, tick=False):
        call_command("seed_demo", "--cases", "200", stdout=out, stderr=StringIO())
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(_seeded, db, time_machine):
    time_machine.move_to(LATER, tick=False)
    return _seeded


def test_the_demo_cases_are_dated_in_the_months_before_the_clock(seeded):
    now = timezone.now()
    opened = list(Case.objects.filter(source="demo").values_list("created_at", flat=True))

    assert len(opened) == 200
    assert all(now - timedelta(days=181) <= at <= now for at in opened)
    assert max(opened) >= now - timedelta(days=7)  # the recent weeks are the busiest
    assert "Demo data ready." in seeded


def test_the_queue_answers_with_due_times_around_the_clock(seeded):
    now = timezone.now()
    client = Client()
    client.force_login(get_user_model().objects.get(username="quality_officer"))

    assert client.get("/admin/").status_code == 200
    response = client.get(QUEUE_URL)

    assert response.status_code == 200
    listed = list(response.context["cl"].result_list)
    assert listed
    dues = [h.sla.due_at for h in listed if h.sla.due_at is not None]
    # Still running or breached within the demo's months, never years off.
    assert all(now - timedelta(days=181) < due < now + timedelta(days=30) for due in dues)
    assert any(due > now for due in dues)


def test_years_without_holiday_data_are_a_warning_with_the_command_to_run(seeded):
    missing = unpublished_cn_years()
    assert LATER.year + 1 in missing  # next year's schedule is never published this early

    imported = set(CalendarException.objects.dates("date", "year"))
    assert {d.year for d in imported} == set(holiday_years(LATER.date())) - set(missing)
    assert f"Warning: no CN holiday data for {', '.join(map(str, missing))}" in seeded
    assert f"manage.py import_holidays --country CN --year {missing[0]}" in seeded

    warnings = [m for m in run_checks() if m.id == "departments.W001"]
    assert warnings
    assert all("manage.py import_holidays --country CN --year" in w.hint for w in warnings)


def test_a_rerun_much_later_says_how_to_reseed_relative_to_today(seeded, time_machine):
    time_machine.move_to(LATER + timedelta(days=90), tick=False)
    out = StringIO()

    call_command("seed_demo", "--cases", "200", stdout=out, stderr=StringIO())

    assert "cases: 0 added" in out.getvalue()
    assert "make clean && make run" in out.getvalue()
    assert Case.objects.filter(source="demo").count() == 200
