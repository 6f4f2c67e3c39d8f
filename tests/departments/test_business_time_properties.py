"""Properties of business-time arithmetic that must hold for every schedule, start and duration.

`Schedule` is pure, so most properties run on schedules built directly; the last tests load them
through `BusinessCalendar.schedule()` to prove that what the admin stores is what the arithmetic uses
(including an end of 00:00 meaning midnight). Instants are compared in UTC: Python compares two
datetimes of the same time zone by wall clock, which is wrong across a daylight-saving change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from departments.business_time import Schedule, validate_hours
from departments.models import CalendarException
from departments.services import calendar_set_hours
from tests.factories import CalendarExceptionFactory, CalendarFactory
from tests.support import SHANGHAI

# Asia/Shanghai is the default. London, New York and Lord Howe (half an hour at 02:00) change their
# clocks, which the arithmetic must survive without losing or inventing time.
ZONES = [SHANGHAI, ZoneInfo("UTC"), ZoneInfo("Europe/London"), ZoneInfo("America/New_York")]
DST_ZONES = [ZoneInfo("Europe/London"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")]
ANY_ZONE = st.sampled_from(ZONES)
MIDNIGHT = time.max  # how a Schedule spells an end of 24:00
ONE_US = timedelta(microseconds=1)

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEAD_OFFICE_DAY = ((time(9), time(12)), (time(13, 30), time(17, 30)))
# China's 2026 Spring Festival and National Day blocks as `import_holidays` writes them (weekends inside
# a block included), and the make-up Saturdays and Sundays around them.
HOLIDAYS_2026 = frozenset(
    [date(2026, 2, d) for d in (16, 17, 18, 19, 20, 21, 22, 23)] + [date(2026, 10, d) for d in range(1, 8)]
)
MAKE_UP_2026 = frozenset([date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)])


def _wall(minute: int) -> time:
    return MIDNIGHT if minute == 24 * 60 else time(minute // 60, minute % 60)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _fit(schedule: Schedule, duration: timedelta) -> timedelta:
    """At most 20 weeks of the schedule's working time.

    A schedule with one short shift a week takes years to accumulate 20 days; past five years `add`
    refuses (NoWorkingTimeError), which is right, but is not the property under test.
    """
    if schedule.always_open:
        return duration
    minutes = sum(
        (e.hour * 60 + e.minute if e != MIDNIGHT else 24 * 60) - (s.hour * 60 + s.minute)
        for shifts in schedule.weekly.values()
        for s, e in shifts
    )
    return min(duration, timedelta(minutes=minutes) * 20)


# -- strategies ---------------------------------------------------------------------------------
@st.composite
def day_shifts(draw, first_start_max=23 * 60 + 59, longest=12 * 60) -> tuple[tuple[time, time], ...]:
    """0–3 sorted, non-overlapping shifts of one weekday; adjacent shifts and 24:00 ends included."""
    shifts = []
    cursor = draw(st.integers(0, first_start_max))
    for _ in range(draw(st.integers(0, 3))):
        end = min(cursor + draw(st.integers(1, longest)), 24 * 60)
        shifts.append((_wall(cursor), _wall(end)))
        cursor = end + draw(st.sampled_from([0, 1, 30, 90, 6 * 60]))
        if cursor >= 24 * 60:
            break
    return tuple(shifts)


@st.composite
def schedules(draw, zones=ANY_ZONE, shifts_of_a_day=None) -> Schedule:
    if shifts_of_a_day is None:
        shifts_of_a_day = day_shifts()
    # A few kinds of day (weekday, Saturday, ...) shared by the weekdays, as real calendars have.
    kinds_of_day = draw(st.lists(shifts_of_a_day, min_size=1, max_size=3))
    pattern = draw(st.lists(st.integers(0, len(kinds_of_day)), min_size=7, max_size=7))
    weekly = {
        weekday: kinds_of_day[kind]
        for weekday, kind in enumerate(pattern)
        if kind < len(kinds_of_day) and kinds_of_day[kind]
    }
    assume(weekly)
    for shifts in weekly.values():
        assert validate_hours(shifts) == [], shifts  # the strategy only builds what the admin accepts
    dates = st.dates(date(2025, 12, 1), date(2027, 3, 31))
    holidays = draw(st.frozensets(dates, max_size=12))
    return Schedule(
        tz=draw(zones),
        weekly=weekly,
        holidays=holidays,
        extra_workdays=draw(st.frozensets(dates, max_size=8)) - holidays,
        extra_workday_like=draw(st.integers(0, 6)),
    )


def starts(zones=ZONES):
    """Aware instants in 2026 to the microsecond, in any of the zones (the calendar's own or not)."""
    return st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2026, 12, 31, 23, 59),
        timezones=st.sampled_from(zones),
    )


@st.composite
def around_clock_changes(draw) -> datetime:
    """Instants in the days around the 2026 daylight-saving changes of the DST zones."""
    changes = [date(2026, 3, 8), date(2026, 3, 29), date(2026, 4, 5), date(2026, 10, 4), date(2026, 10, 25)]
    day = draw(st.sampled_from([*changes, date(2026, 11, 1)])) + timedelta(days=draw(st.integers(-3, 1)))
    wall = draw(st.times())
    return datetime.combine(day, wall, tzinfo=draw(st.sampled_from(DST_ZONES)))


durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))
positive_durations = st.timedeltas(min_value=ONE_US, max_value=timedelta(days=20))

# Hand-written schedules of the kinds banks use: split shifts with holidays and make-up days, night
# shifts ending at midnight and going on from midnight, and round-the-clock work.
HEAD_OFFICE = Schedule(
    tz=SHANGHAI,
    weekly=dict.fromkeys(range(5), HEAD_OFFICE_DAY),
    holidays=HOLIDAYS_2026,
    extra_workdays=MAKE_UP_2026,
)
NIGHT_SHIFTS = Schedule(
    tz=SHANGHAI,
    weekly={
        0: ((time(8), time(12)), (time(18), MIDNIGHT)),
        1: ((time(0), time(2)), (time(18), MIDNIGHT)),
        4: ((time(22), MIDNIGHT),),
        5: ((time(0), MIDNIGHT),),
        6: ((time(0), time(6)),),
    },
    holidays=frozenset([date(2026, 10, 5)]),
    extra_workdays=frozenset([date(2026, 10, 10)]),
    extra_workday_like=5,
)
ALWAYS_OPEN = Schedule(tz=SHANGHAI, weekly={}, always_open=True)
EVERY_HOUR_OF_EVERY_DAY = Schedule(tz=SHANGHAI, weekly=dict.fromkeys(range(7), ((time(0), MIDNIGHT),)))
NAMED = {
    "head office": HEAD_OFFICE,
    "night shifts": NIGHT_SHIFTS,
    "24x7": ALWAYS_OPEN,
    "all day every day": EVERY_HOUR_OF_EVERY_DAY,
}
any_schedule = st.one_of(st.sampled_from(list(NAMED.values())), schedules())


# -- add and between are inverse --------------------------------------------------------------
@PROPERTY
@given(schedule=any_schedule, start=starts(), duration=durations)
def test_between_start_and_due_is_exactly_the_duration_added(schedule, start, duration):
    duration = _fit(schedule, duration)
    due = schedule.add(start, duration)

    assert schedule.between(start, due) == duration


@PROPERTY
@given(schedule=any_schedule, start=starts(), duration=positive_durations)
def test_due_time_is_never_inside_a_break(schedule, start, duration):
    duration = _fit(schedule, duration)
    due = schedule.add(start, duration)

    # The last microsecond before the due time was worked: the clock stopped inside a working
    # interval or exactly at its end, never in a lunch break, a night or a holiday.
    assert schedule.is_working(_utc(due) - ONE_US)
    assert _utc(due) > _utc(start)


@SOME
@given(schedule=any_schedule, start=starts(), d1=durations, d2=durations)
def test_add_is_monotonic_in_the_duration(schedule, start, d1, d2):
    shorter, longer = sorted([_fit(schedule, d1), _fit(schedule, d2)])

    assert _utc(schedule.add(start, shorter)) <= _utc(schedule.add(start, longer))


@SOME
@given(schedule=any_schedule, start=starts(), later_by=durations, duration=durations)
def test_add_is_monotonic_in_the_start(schedule, start, later_by, duration):
    duration = _fit(schedule, duration)
    later = (_utc(start) + later_by).astimezone(start.tzinfo)

    assert _utc(schedule.add(start, duration)) <= _utc(schedule.add(later, duration))


@SOME
@given(schedule=any_schedule, a=starts(), gap1=durations, gap2=durations)
def test_between_adds_up_over_consecutive_spans_and_flips_sign(schedule, a, gap1, gap2):
    b = _utc(a) + gap1
    c = b + gap2

    assert schedule.between(a, b) + schedule.between(b, c) == schedule.between(a, c)
    assert schedule.between(c, a) == -schedule.between(a, c)
    assert timedelta(0) <= schedule.between(a, b) <= b - _utc(a)


@SOME
@given(start=starts(), duration=durations, end=starts())
def test_a_schedule_working_all_day_every_day_counts_wall_clock_time_like_24x7(start, duration, end):
    for schedule in (ALWAYS_OPEN, EVERY_HOUR_OF_EVERY_DAY):
        assert _utc(schedule.add(start, duration)) == _utc(start) + duration
        assert schedule.between(start, end) == _utc(end) - _utc(start)


@PROPERTY
@given(
    # Shifts starting and ending around 00:00–04:00, where the clocks change.
    schedule=schedules(
        zones=st.sampled_from(DST_ZONES), shifts_of_a_day=day_shifts(first_start_max=3 * 60, longest=90)
    ),
    start=st.one_of(starts(DST_ZONES), around_clock_changes()),
    duration=st.one_of(durations, st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=6))),
)
def test_daylight_saving_changes_neither_lose_nor_invent_business_time(schedule, start, duration):
    duration = _fit(schedule, duration)
    due = schedule.add(start, duration)

    assert schedule.between(start, due) == duration
    if duration:
        assert schedule.is_working(_utc(due) - ONE_US)


@pytest.mark.parametrize(
    ("zone", "day", "shifts", "worked"),
    [
        # London jumps from 01:00 to 02:00: of 00:00–01:30 only 00:00–01:00 exists, of 01:45–04:00
        # only 02:00–04:00.
        ("Europe/London", date(2026, 3, 29), [(time(0), time(1, 30)), (time(1, 45), time(4))], 3),
        ("Europe/London", date(2026, 3, 29), [(time(1, 30), time(2, 15))], 0.25),
        # New York jumps from 02:00 to 03:00.
        ("America/New_York", date(2026, 3, 8), [(time(0), time(2, 30)), (time(2, 45), time(5))], 4),
        # Shifts that avoid the gap keep their length in real time: 00:30–03:30 is 2 h that night.
        ("Europe/London", date(2026, 3, 29), [(time(0, 30), time(3, 30))], 2),
        # Falling back repeats 01:00–02:00: 00:30–03:30 is 4 h of real time.
        ("Europe/London", date(2026, 10, 25), [(time(0, 30), time(3, 30))], 4),
    ],
)
def test_shifts_on_a_night_the_clock_changes_count_the_time_that_really_passes(zone, day, shifts, worked):
    tz = ZoneInfo(zone)
    schedule = Schedule(tz=tz, weekly=dict.fromkeys(range(7), tuple(shifts)))
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    end_of_last_shift = datetime.combine(day, shifts[-1][1], tzinfo=tz)

    assert schedule.between(midnight, midnight + timedelta(days=1)) == timedelta(hours=worked)
    assert _utc(schedule.add(midnight, timedelta(hours=worked))) == _utc(end_of_last_shift)


# -- an independent oracle: walk the calendar minute by minute ---------------------------------------
def _minute_walker_add(schedule: Schedule, start: datetime, minutes: int) -> datetime:
    """The obvious, slow answer for whole minutes on a calendar without daylight saving."""
    moment = _utc(start)
    while minutes:
        local = moment.astimezone(schedule.tz)
        wall = local.time()
        if any(s <= wall and (e == MIDNIGHT or wall < e) for s, e in schedule.local_hours(local.date())):
            minutes -= 1
        moment += timedelta(minutes=1)
    return moment


@FEW
@given(
    schedule=st.sampled_from([HEAD_OFFICE, NIGHT_SHIFTS]),
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(SHANGHAI)
    ),
    minutes=st.integers(0, 16 * 60),
)
def test_add_agrees_with_walking_the_calendar_minute_by_minute(schedule, start, minutes):
    start = start.replace(second=0, microsecond=0)
    expected = _minute_walker_add(schedule, start, minutes)

    due = schedule.add(start, timedelta(minutes=minutes))

    if minutes:
        assert _utc(due) == expected
    else:  # nothing to wait for: the start itself, even outside working hours
        assert due == start


# -- schedules loaded from the database ------------------------------------------------------------
def test_a_calendar_loads_split_shifts_midnight_ends_holidays_and_make_up_days(db):
    calendar = CalendarFactory(head_office_hours=False, extra_workday_like=4)
    calendar_set_hours(
        calendar=calendar,
        hours=[
            (0, time(9), time(12)),
            (0, time(13, 30), time(17, 30)),
            (4, time(18), time(0)),  # stored as 00:00, meaning midnight
            (5, time(0), time(6)),
        ],
    )
    CalendarExceptionFactory(calendar=calendar, date=date(2026, 10, 5))
    CalendarExceptionFactory(
        calendar=calendar, date=date(2026, 10, 10), kind=CalendarException.Kind.EXTRA_WORKDAY
    )

    assert calendar.schedule() == Schedule(
        tz=SHANGHAI,
        weekly={
            0: ((time(9), time(12)), (time(13, 30), time(17, 30))),
            4: ((time(18), MIDNIGHT),),
            5: ((time(0), time(6)),),
        },
        holidays=frozenset([date(2026, 10, 5)]),
        extra_workdays=frozenset([date(2026, 10, 10)]),
        extra_workday_like=4,
    )
    # Friday 23:00 + 2 h runs through midnight into Saturday's early shift without a pause.
    friday_late = datetime(2026, 10, 16, 23, tzinfo=SHANGHAI)
    assert calendar.add(friday_late, timedelta(hours=2)) == datetime(2026, 10, 17, 1, tzinfo=SHANGHAI)
    # The make-up Saturday 10 Oct follows Friday's hours: only 18:00–24:00, not 00:00–06:00.
    make_up_day = datetime(2026, 10, 10, tzinfo=SHANGHAI)
    assert calendar.between(make_up_day, make_up_day + timedelta(days=1)) == timedelta(hours=6)


def test_properties_hold_for_calendars_loaded_from_the_database(db):
    head_office = CalendarFactory()  # Monday–Friday 09:00–12:00 + 13:30–17:30
    for day in sorted(HOLIDAYS_2026):
        CalendarExceptionFactory(calendar=head_office, date=day)
    for day in sorted(MAKE_UP_2026):
        CalendarExceptionFactory(calendar=head_office, date=day, kind=CalendarException.Kind.EXTRA_WORKDAY)
    night = CalendarFactory(head_office_hours=False)
    calendar_set_hours(
        calendar=night,
        hours=[(d, time(20), time(0)) for d in range(7)] + [(d, time(0), time(4)) for d in range(7)],
    )
    around_the_clock = CalendarFactory(always_open=True)
    loaded = [head_office.schedule(), night.schedule(), around_the_clock.schedule()]

    assert loaded[0] == HEAD_OFFICE

    @PROPERTY
    @given(schedule=st.sampled_from(loaded), start=starts(), duration=durations, other=durations)
    def check(schedule, start, duration, other):
        due = schedule.add(start, duration)
        assert schedule.between(start, due) == duration
        if duration:
            assert schedule.is_working(_utc(due) - ONE_US)
        assert _utc(due) <= _utc(schedule.add(start, duration + other))

    check()
