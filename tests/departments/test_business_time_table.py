"""Business time on real 2026 dates with the demo calendars, as a department would count it.

The demo organisation imports China's official 2026 schedule: National Day 1–7 October is off, and
Sunday 20 September and Saturday 10 October are make-up working days (调休).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from departments.demo import seed_organisation
from departments.models import BusinessCalendar
from tests.support import SHANGHAI


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


@pytest.fixture(scope="module")
def calendars(django_db_setup, django_db_blocker):
    """The demo calendars as schedules, seeded once for the module.

    Seeded exactly as the `demo_org` fixture does, then rolled back: a Schedule is pure, so the
    tables below share one seeding instead of paying for it on every row.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        seed_organisation()
        schedules = {c.code: c.schedule() for c in BusinessCalendar.objects.all()}
        transaction.set_rollback(True)
    return schedules


@pytest.fixture
def head_office(calendars):
    """CN_HEAD_OFFICE: Monday–Friday 09:00–12:00 and 13:30–17:30."""
    return calendars["CN_HEAD_OFFICE"]


def test_the_demo_departments_use_their_documented_calendars(demo_org):
    assert {code: dept.calendar.code for code, dept in demo_org.items()} == {
        "BRANCH": "CN_BRANCH",
        "CALL_CENTER": "CN_24X7",
        "CARD_CENTER": "CN_HEAD_OFFICE",
        "RETAIL_LENDING": "CN_HEAD_OFFICE",
        "RISK": "CN_HEAD_OFFICE",
        "COMPLIANCE": "CN_HEAD_OFFICE",
        "IT": "CN_HEAD_OFFICE",
        "SERVICE_QUALITY": "CN_HEAD_OFFICE",
    }
    assert all(c.time_zone == "Asia/Shanghai" for c in BusinessCalendar.objects.all())


@pytest.mark.parametrize(
    ("start", "duration", "due", "why"),
    [
        (
            at(9, 30, 16),
            hours(4),
            at(10, 8, 11, 30),
            "1.5 h on 30 Sep, National Day 1–7 Oct off, 2.5 h on 8 Oct",
        ),
        (at(10, 3, 10), hours(1), at(10, 8, 10), "a request made during the holiday waits for 8 Oct"),
        (at(10, 9, 17), hours(1), at(10, 10, 9, 30), "Saturday 10 Oct is a make-up working day"),
        (at(10, 10, 17), hours(1), at(10, 12, 9, 30), "Sunday 11 Oct is not"),
        (
            at(9, 18, 17, 30),
            hours(1),
            at(9, 20, 10),
            "Sunday 20 Sep is a make-up working day, Saturday 19 is not",
        ),
        (at(9, 29, 11, 30), hours(1), at(9, 29, 14), "the lunch break 12:00–13:30 does not count"),
        (at(9, 29, 12, 15), hours(1), at(9, 29, 14, 30), "a request made at lunch starts at 13:30"),
        (at(9, 29, 8), hours(3), at(9, 29, 12), "the morning shift ends at 12:00 exactly"),
        (at(9, 29, 17, 30), hours(0.5), at(9, 30, 9, 30), "after 17:30 the clock runs the next morning"),
        (at(9, 29, 9), hours(7), at(9, 29, 17, 30), "a working day has 7 hours"),
        (at(10, 16, 16), hours(2), at(10, 19, 9, 30), "an ordinary weekend is skipped"),
        (
            at(2, 13, 17, 30),
            hours(1),
            at(2, 14, 10),
            "Saturday 14 Feb is a make-up day before the Spring Festival",
        ),
        (at(2, 14, 17, 30), hours(1), at(2, 24, 10), "the Spring Festival 15–23 Feb is off"),
    ],
)
def test_head_office_due_times(head_office, start, duration, due, why):
    assert head_office.add(start, duration) == due, why


@pytest.mark.parametrize(
    ("start", "end", "business", "why"),
    [
        (at(9, 29, 12), at(9, 29, 13, 30), hours(0), "the lunch break"),
        (at(9, 29, 11), at(9, 29, 14), hours(1.5), "an hour before lunch and half an hour after"),
        (at(9, 30, 17, 30), at(10, 8, 9), hours(0), "the whole National Day holiday"),
        (at(10, 1), at(10, 8), hours(0), "1–7 October, the Sunday 4 Oct included"),
        (at(9, 30, 9), at(10, 10, 17, 30), hours(28), "30 Sep, 8, 9 and the make-up Saturday 10 Oct"),
        (at(10, 10, 9), at(10, 10, 17, 30), hours(7), "the make-up Saturday has Monday's hours"),
        (at(9, 20), at(9, 21), hours(7), "the make-up Sunday 20 Sep"),
        (at(9, 19), at(9, 20), hours(0), "Saturday 19 Sep is a weekend"),
        (at(9, 28), at(10, 5), hours(21), "the week of National Day has three working days"),
        (at(9, 14), at(9, 21), hours(42), "the week before has six, the make-up Sunday 20 Sep included"),
    ],
)
def test_head_office_business_time_between(head_office, start, end, business, why):
    assert head_office.between(start, end) == business, why


def test_head_office_due_time_from_another_time_zone_is_the_same_instant(head_office):
    # 08:00 UTC is 16:00 in Shanghai; the calendar counts in its own time zone and answers in it.
    due = head_office.add(datetime(2026, 9, 30, 8, tzinfo=UTC), hours(4))

    assert due == datetime(2026, 10, 8, 3, 30, tzinfo=UTC)
    assert due.tzinfo == SHANGHAI
    assert (due.hour, due.minute) == (11, 30)


def test_the_calendar_model_answers_like_its_schedule(demo_org):
    calendar = BusinessCalendar.objects.get(code="CN_HEAD_OFFICE")

    assert calendar.add(at(9, 30, 16), hours(4)) == at(10, 8, 11, 30)
    assert calendar.between(at(9, 30, 16), at(10, 8, 11, 30)) == hours(4)


def test_24x7_counts_wall_clock_time_through_holidays(calendars):
    call_center = calendars["CN_24X7"]

    assert call_center.add(at(9, 30, 16), hours(4)) == at(9, 30, 20)
    assert call_center.add(at(10, 1, 23), hours(2)) == at(10, 2, 1)
    assert call_center.between(at(9, 30, 16), at(10, 8, 11, 30)) == timedelta(days=7, hours=19, minutes=30)
    assert call_center.is_working(at(10, 4, 3))


@pytest.mark.parametrize(
    ("start", "duration", "due", "why"),
    [
        (at(9, 30, 16), hours(2), at(10, 8, 10), "1 h on 30 Sep; 1–7 Oct off, Sunday 4 Oct included"),
        (at(10, 3, 12), hours(1), at(10, 8, 10), "the holiday weekend is off for a branch too"),
        (at(10, 17, 16), hours(2), at(10, 18, 10), "an ordinary weekend is open"),
        (at(10, 10, 16, 30), hours(1), at(10, 11, 9, 30), "every day 09:00–17:00, no lunch break"),
    ],
)
def test_branch_due_times(calendars, start, duration, due, why):
    assert calendars["CN_BRANCH"].add(start, duration) == due, why


def test_branch_is_closed_on_sunday_4_october(calendars):
    branch = calendars["CN_BRANCH"]

    assert not branch.is_working(at(10, 4, 10))
    assert branch.between(at(10, 4), at(10, 5)) == hours(0)
    assert branch.between(at(10, 11), at(10, 12)) == hours(8)


def test_between_is_negative_when_the_end_is_before_the_start(calendars):
    for code, schedule in calendars.items():
        assert schedule.between(at(10, 8, 11, 30), at(9, 30, 16)) == -schedule.between(
            at(9, 30, 16), at(10, 8, 11, 30)
        ), code
    assert calendars["CN_HEAD_OFFICE"].between(at(10, 8, 11, 30), at(9, 30, 16)) == -hours(4)


@pytest.mark.parametrize("code", ["CN_HEAD_OFFICE", "CN_BRANCH", "CN_24X7"])
def test_a_negative_duration_is_refused(calendars, code):
    with pytest.raises(ValueError, match="negative"):
        calendars[code].add(at(9, 30, 16), -timedelta(microseconds=1))


@pytest.mark.parametrize("code", ["CN_HEAD_OFFICE", "CN_BRANCH", "CN_24X7"])
def test_naive_datetimes_are_refused(calendars, code):
    schedule = calendars[code]
    naive = datetime(2026, 9, 30, 16)

    with pytest.raises(ValueError, match="aware"):
        schedule.add(naive, hours(4))
    with pytest.raises(ValueError, match="aware"):
        schedule.add(naive, timedelta(0))
    with pytest.raises(ValueError, match="aware"):
        schedule.between(naive, at(10, 8))
    with pytest.raises(ValueError, match="aware"):
        schedule.between(at(9, 1), naive)
    with pytest.raises(ValueError, match="aware"):
        schedule.is_working(naive)
