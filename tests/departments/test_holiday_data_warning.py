"""A calendar in use without holiday data for this or next year is a visible warning, never a crash.

China publishes next year's schedule late in the year; on 29 November 2026 the demo calendars have
2025 and 2026 but not 2027, which the holidays package does not know yet either.
"""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.checks import WARNING, Warning, run_checks
from django.core.management import call_command

from departments.models import BusinessCalendar, Department
from tests.factories import CalendarExceptionFactory, CalendarFactory, DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

LATE_2026 = "2026-11-29 10:00 +08:00"


def holiday_warnings() -> list[Warning]:
    return [m for m in run_checks() if m.id == "departments.W001"]


@pytest.fixture
def late_2026():
    with time_machine.travel(LATE_2026, tick=False):
        yield


def test_check_warns_about_calendars_in_use_without_next_years_holidays(demo_org, late_2026):
    out = StringIO()
    call_command("check", stdout=out, stderr=out)
    output = out.getvalue()

    assert "departments.W001" in output
    assert "Business calendar 'CN_HEAD_OFFICE' has no holiday data for 2027." in output
    assert "Business calendar 'CN_BRANCH' has no holiday data for 2027." in output
    assert "import_holidays --country CN --year 2027 --calendar CN_HEAD_OFFICE" in output
    assert "CN_24X7" not in output  # round the clock needs no holidays


def test_check_names_every_missing_year(late_2026):
    DepartmentFactory(calendar=CalendarFactory(code="EMPTY", country="CN"))

    [warning] = holiday_warnings()

    assert warning.level == WARNING
    assert warning.msg == "Business calendar 'EMPTY' has no holiday data for 2026, 2027."


def test_dates_entered_in_the_admin_count_as_data(demo_org, late_2026):
    for calendar in BusinessCalendar.objects.filter(always_open=False):
        CalendarExceptionFactory(calendar=calendar, date=date(2027, 1, 1), name="New Year's Day")

    assert holiday_warnings() == []


def test_calendars_only_of_inactive_departments_or_without_a_country_are_not_reported(late_2026):
    DepartmentFactory(calendar=CalendarFactory(code="CLOSED", country="CN"), is_active=False)
    DepartmentFactory(calendar=CalendarFactory(code="NO_COUNTRY", country=""))
    CalendarFactory(code="UNUSED", country="CN")

    assert holiday_warnings() == []


def test_check_without_any_calendar_is_quiet(late_2026):
    assert not BusinessCalendar.objects.exists()

    out = StringIO()
    call_command("check", stdout=out)

    assert holiday_warnings() == []
    assert "System check identified no issues" in out.getvalue()


def test_the_calendar_list_in_the_admin_shows_the_warning(demo_org, late_2026, client):
    client.force_login(UserFactory(username="boss", is_superuser=True))

    response = client.get("/admin/departments/businesscalendar/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    shown = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert shown == [
        ("warning", "Calendar CN_BRANCH has no holiday data for 2027: import it or enter the dates."),
        ("warning", "Calendar CN_HEAD_OFFICE has no holiday data for 2027: import it or enter the dates."),
    ]
    assert "Calendar CN_HEAD_OFFICE has no holiday data for 2027" in response.content.decode()


def test_the_department_list_still_works_without_holiday_data(demo_org, late_2026, client):
    client.force_login(UserFactory(username="boss", is_superuser=True))

    response = client.get("/admin/departments/department/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert Department.objects.count() == 8
