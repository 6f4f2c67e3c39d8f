"""Writes for departments and calendars."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, time, timedelta

import holidays as holidays_lib
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import InvalidInput
from departments.business_time import validate_hours
from departments.models import BusinessCalendar, CalendarException, Heartbeat, WorkingHours


# -- working hours -------------------------------------------------------------------------------
def hours_problems(rows: list[tuple[int, time, time]]) -> list[str]:
    """Every problem with a calendar's shifts, grouped by weekday: the one rule for admin and services."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in rows:
        by_day.setdefault(weekday, []).append((start, time.max if end == time.min else end))
    problems: list[str] = []
    for weekday, shifts in sorted(by_day.items()):
        label = BusinessCalendar.Weekday(weekday).label
        problems.extend(f"{label}: {p}" for p in validate_hours(shifts))
    return problems


@transaction.atomic
def calendar_set_hours(*, calendar: BusinessCalendar, hours: list[tuple[int, time, time]]) -> None:
    """Replace a calendar's weekly hours; refuses overlapping or inverted shifts and saves nothing then."""
    problems = hours_problems(hours)
    if problems:
        raise InvalidInput("; ".join(problems), code="invalid_hours")
    BusinessCalendar.objects.select_for_update(no_key=True).filter(pk=calendar.pk).first()
    calendar.hours.all().delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(calendar=calendar, weekday=w, start=s, end=e) for w, s, e in hours
    )


# -- holiday import -----------------------------------------------------------------------------
@dataclass(frozen=True)
class HolidayImport:
    year: int
    holidays: int
    extra_workdays: int
    kept_manual: int


def _country_holidays(country: str, year: int) -> holidays_lib.HolidayBase:
    try:
        data = holidays_lib.country_holidays(country.upper(), years=year, language="en_US")
    except NotImplementedError as exc:
        raise InvalidInput(f"Unknown country code {country!r}.", code="unknown_country") from exc
    if not (data.start_year <= year <= data.end_year):
        raise InvalidInput(
            f"The holidays package has no data for {country.upper()} {year}.", code="year_not_supported"
        )
    # Countries that publish a yearly schedule with make-up working days (China) only have real data
    # for the years that schedule was released; other years would be a guess without the 调休 days.
    special = getattr(data, "special_public_holidays", None) or {}
    if getattr(data, "weekend_workdays", None) and year not in special:
        raise InvalidInput(
            f"The official {country.upper()} holiday schedule for {year} is not in the installed holidays "
            "package yet: upgrade it (pip install --upgrade holidays) and import again, or enter the dates "
            "in the admin.",
            code="year_not_supported",
        )
    return data


def _bridge_weekends(days: set[date]) -> set[date]:
    """The package omits weekend days inside a holiday block (Sun 4 Oct 2026); a 7-day calendar needs them."""
    filled = set(days)
    ordered = sorted(days)
    for before, after in itertools.pairwise(ordered):
        between = [before + timedelta(days=i) for i in range(1, (after - before).days)]
        if 0 < len(between) <= 2 and all(d.weekday() >= 5 for d in between):
            filled.update(between)
    return filled


@transaction.atomic
def calendar_import_holidays(*, calendar: BusinessCalendar, country: str, year: int) -> HolidayImport:
    """Fill a calendar's holidays and make-up working days for one year from the holidays package.

    Entries typed in the admin (no source) win over imported ones; re-importing replaces only what an
    earlier import wrote, so running it twice changes nothing.
    """
    data = _country_holidays(country, year)
    source = f"holidays:{country.upper()}"
    names = {d: n for d, n in data.items() if d.year == year}
    holiday_days = _bridge_weekends(set(names))
    extra_days = {d for d in getattr(data, "weekend_workdays", set()) if d.year == year}

    BusinessCalendar.objects.select_for_update(no_key=True).filter(pk=calendar.pk).first()
    existing = calendar.exceptions.filter(date__year=year)
    manual = set(existing.exclude(source=source).values_list("date", flat=True))
    existing.filter(source=source).delete()
    rows = [
        CalendarException(
            calendar=calendar,
            date=d,
            kind=CalendarException.Kind.HOLIDAY,
            name=names.get(d, "Holiday (weekend within the holiday)"),
            source=source,
        )
        for d in sorted(holiday_days - manual)
    ] + [
        CalendarException(
            calendar=calendar,
            date=d,
            kind=CalendarException.Kind.EXTRA_WORKDAY,
            name="Make-up working day",
            source=source,
        )
        for d in sorted(extra_days - manual - holiday_days)
    ]
    CalendarException.objects.bulk_create(rows)
    if not calendar.country:
        calendar.country = country.upper()
        calendar.save(update_fields=["country"])
    return HolidayImport(
        year=year,
        holidays=len(holiday_days - manual),
        extra_workdays=len(extra_days - manual - holiday_days),
        kept_manual=len(manual),
    )


# -- heartbeat ----------------------------------------------------------------------------------
def heartbeat_record(*, name: str = Heartbeat.WORKER) -> None:
    """One UPDATE, safe from any number of workers at once."""
    now = timezone.now()
    if not Heartbeat.objects.filter(name=name).update(beat_at=now, count=F("count") + 1):
        Heartbeat.objects.get_or_create(name=name, defaults={"beat_at": now, "count": 1})
