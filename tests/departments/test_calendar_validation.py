"""A calendar with impossible hours or a doubled date cannot be saved, neither in the admin nor by a service.

The admin tests post the BusinessCalendar change form the way a browser does: the form and both inline
formsets as the page rendered them, plus the user's edit.
"""

from __future__ import annotations

from datetime import date, time

import pytest

from core.errors import InvalidInput
from departments.models import BusinessCalendar, CalendarException
from departments.services import calendar_set_hours
from tests.factories import CalendarExceptionFactory, CalendarFactory, UserFactory

pytestmark = pytest.mark.django_db

MONDAY, SATURDAY = BusinessCalendar.Weekday.MONDAY, BusinessCalendar.Weekday.SATURDAY


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="admin", is_superuser=True))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def calendar():
    """Head-office hours (Monday–Friday 09:00–12:00 + 13:30–17:30) and National Day entered by hand."""
    calendar = CalendarFactory(code="CN_HEAD_OFFICE", name="Head office", country="CN")
    CalendarExceptionFactory(calendar=calendar, date=date(2026, 10, 1), name="National Day")
    return calendar


def change_url(calendar) -> str:
    return f"/admin/departments/businesscalendar/{calendar.pk}/change/"


def _field_value(bound_field):
    value = bound_field.value()
    if value is None or value is False:
        return None
    if value is True:
        return "on"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def page_as_posted(response) -> tuple[dict[str, str], dict[str, str]]:
    """What the browser would send back unchanged, and the prefix of each inline (by model name)."""
    forms = [response.context["adminform"].form]
    data: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        prefixes[formset.model._meta.model_name] = formset.prefix
        management = formset.management_form
        data.update({management[name].html_name: str(management[name].value()) for name in management.fields})
        forms.extend(formset.forms)
    for form in forms:
        for bound_field in form:
            value = _field_value(bound_field)
            if value is not None:
                data[bound_field.html_name] = value
    return data, prefixes


def with_new_row(data: dict[str, str], prefix: str, **fields: str) -> dict[str, str]:
    """Add one inline row, as the admin's "Add another" link does."""
    data = dict(data)
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    data.update({f"{prefix}-{index}-{name}": value for name, value in fields.items()})
    return data


def snapshot(calendar) -> tuple:
    calendar.refresh_from_db()
    return (
        calendar.name,
        list(calendar.hours.values_list("weekday", "start", "end")),
        list(calendar.exceptions.values_list("date", "kind", "name")),
    )


def test_the_admin_saves_a_valid_edit_including_a_shift_until_midnight(admin_client, calendar):
    data, prefixes = page_as_posted(admin_client.get(change_url(calendar)))
    data["name"] = "Head office (with Saturday evening)"
    data = with_new_row(data, prefixes["workinghours"], weekday=str(SATURDAY), start="18:00", end="00:00")
    data = with_new_row(data, prefixes["calendarexception"], date="2026-10-10", kind="extra_workday")

    response = admin_client.post(change_url(calendar), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    name, hours, exceptions = snapshot(calendar)
    assert name == "Head office (with Saturday evening)"
    assert (SATURDAY, time(18), time(0)) in hours
    assert (date(2026, 10, 10), "extra_workday", "") in exceptions
    assert calendar.schedule().weekly[SATURDAY] == ((time(18), time.max),)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            {"weekday": str(MONDAY), "start": "11:00", "end": "14:00"},
            "Monday: 09:00–12:00 overlaps the shift starting 11:00",
            id="overlapping shifts",
        ),
        pytest.param(
            {"weekday": str(MONDAY), "start": "12:00", "end": "00:00"},
            "Monday: 12:00–24:00 overlaps the shift starting 13:30",
            id="a shift until midnight over the afternoon",
        ),
        pytest.param(
            {"weekday": str(SATURDAY), "start": "17:00", "end": "09:00"},
            "A shift must end after it starts.",
            id="inverted shift",
        ),
        pytest.param(
            {"weekday": str(SATURDAY), "start": "09:00", "end": "09:00"},
            "A shift must end after it starts.",
            id="empty shift",
        ),
    ],
)
def test_the_admin_refuses_impossible_hours_and_saves_nothing(admin_client, calendar, edit, message):
    before = snapshot(calendar)
    data, prefixes = page_as_posted(admin_client.get(change_url(calendar)))
    data["name"] = "Renamed"
    data = with_new_row(data, prefixes["workinghours"], **edit)

    response = admin_client.post(change_url(calendar), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Please correct the error" in response.content.decode()
    assert snapshot(calendar) == before


def test_the_admin_refuses_an_existing_shift_edited_to_overlap_the_next(admin_client, calendar):
    before = snapshot(calendar)
    data, prefixes = page_as_posted(admin_client.get(change_url(calendar)))
    prefix = prefixes["workinghours"]
    first_monday = next(
        key.rsplit("-", 1)[0]
        for key, value in data.items()
        if key.startswith(f"{prefix}-") and key.endswith("-weekday") and value == str(MONDAY)
    )
    data[f"{first_monday}-end"] = "14:00"  # 09:00–14:00 runs into the afternoon shift

    response = admin_client.post(change_url(calendar), data)

    assert response.status_code == 200
    assert "Monday: 09:00–14:00 overlaps the shift starting 13:30" in response.content.decode()
    assert snapshot(calendar) == before


@pytest.mark.parametrize("existing", [True, False], ids=["an existing date", "two new rows"])
def test_the_admin_refuses_a_date_entered_twice_and_saves_nothing(admin_client, calendar, existing):
    before = snapshot(calendar)
    data, prefixes = page_as_posted(admin_client.get(change_url(calendar)))
    data["name"] = "Renamed"
    prefix = prefixes["calendarexception"]
    day = "2026-10-01" if existing else "2026-10-08"
    if not existing:
        data = with_new_row(data, prefix, date=day, kind="holiday", name="Bank holiday")
    data = with_new_row(data, prefix, date=day, kind="extra_workday", name="Works after all")

    response = admin_client.post(change_url(calendar), data)

    assert response.status_code == 200
    assert "Please correct the duplicate data for date" in response.content.decode()
    assert snapshot(calendar) == before
    assert CalendarException.objects.filter(date=day).count() == (1 if existing else 0)


@pytest.mark.parametrize(
    ("hours", "problem"),
    [
        ([(MONDAY, time(9), time(12)), (MONDAY, time(11), time(14))], "overlaps"),
        ([(MONDAY, time(17), time(9))], "17:00–09:00 ends before it starts"),
        ([(MONDAY, time(9), time(17)), (MONDAY, time(9), time(12))], "overlaps"),
        ([(MONDAY, time(18), time(0)), (MONDAY, time(20), time(22))], "18:00–24:00 overlaps"),
    ],
)
def test_calendar_set_hours_refuses_impossible_hours_and_keeps_the_old_ones(calendar, hours, problem):
    before = snapshot(calendar)

    with pytest.raises(InvalidInput, match=problem) as refused:
        calendar_set_hours(calendar=calendar, hours=hours)

    assert refused.value.code == "invalid_hours"
    assert snapshot(calendar) == before


def test_calendar_set_hours_replaces_the_week(calendar):
    calendar_set_hours(
        calendar=calendar, hours=[(SATURDAY, time(9), time(12)), (SATURDAY, time(12), time(0))]
    )

    assert calendar.schedule().weekly == {SATURDAY: ((time(9), time(12)), (time(12), time.max))}
