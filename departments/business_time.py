"""Business-time arithmetic over a weekly schedule with dated exceptions.

Pure: no database access. `BusinessCalendar.schedule()` builds a `Schedule` from the rows once per
call, and every computation walks whole days (or whole working intervals), never minutes. All
arithmetic on instants is done in UTC so that daylight-saving jumps in a calendar's time zone (none
in Asia/Shanghai, but a bank may have a branch abroad) never distort a duration.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
# A schedule that yields no working time for this long is broken; fail instead of looping forever.
MAX_SCAN_DAYS = 366 * 5


class NoWorkingTimeError(ValueError):
    """The calendar has no working time within the scanned horizon."""


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    # weekday (Monday = 0) -> sorted, non-overlapping (start, end) local times; end may be time.max
    # meaning midnight at the end of the day.
    weekly: Mapping[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    # Weekday whose hours a make-up working day (调休) follows.
    extra_workday_like: int = 0
    always_open: bool = False

    # -- building blocks ---------------------------------------------------------------------
    def local_hours(self, day: date) -> tuple[tuple[time, time], ...]:
        if day in self.holidays:
            return ()
        if day in self.extra_workdays:
            return self.weekly.get(self.extra_workday_like, ())
        return self.weekly.get(day.weekday(), ())

    def intervals(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals of a local day as aware UTC datetimes."""
        for start, end in self.local_hours(day):
            start_at = datetime.combine(day, start, tzinfo=self.tz)
            if end == time.max:
                end_at = datetime.combine(day + ONE_DAY, time.min, tzinfo=self.tz)
            else:
                end_at = datetime.combine(day, end, tzinfo=self.tz)
            yield start_at.astimezone(UTC), end_at.astimezone(UTC)

    def _local_day(self, moment: datetime) -> date:
        if moment.tzinfo is None:
            raise ValueError("business time needs an aware datetime")
        return moment.astimezone(self.tz).date()

    # -- public arithmetic -------------------------------------------------------------------
    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which `duration` of business time has elapsed after `start`."""
        if duration < ZERO:
            raise ValueError("duration must not be negative")
        if self.always_open:
            return (start.astimezone(UTC) + duration).astimezone(self.tz)
        if duration == ZERO:
            return start
        cursor = start.astimezone(UTC)
        remaining = duration
        day = self._local_day(start)
        for _ in range(MAX_SCAN_DAYS):
            for begin, end in self.intervals(day):
                if end <= cursor:
                    continue
                begin = max(begin, cursor)
                available = end - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(self.tz)
                remaining -= available
                cursor = end
            day += ONE_DAY
        raise NoWorkingTimeError(f"no working time within {MAX_SCAN_DAYS} days of {start.isoformat()}")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (negative when `end` is earlier)."""
        if end < start:
            return -self.between(end, start)
        if self.always_open:
            return end.astimezone(UTC) - start.astimezone(UTC)
        start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
        total = ZERO
        day = self._local_day(start)
        last = self._local_day(end)
        while day <= last:
            for begin, finish in self.intervals(day):
                lo, hi = max(begin, start_utc), min(finish, end_utc)
                if hi > lo:
                    total += hi - lo
            day += ONE_DAY
        return total

    def is_working(self, moment: datetime) -> bool:
        if self.always_open:
            return True
        moment_utc = moment.astimezone(UTC)
        return any(begin <= moment_utc < end for begin, end in self.intervals(self._local_day(moment)))


def validate_hours(hours: Iterable[tuple[time, time]]) -> list[str]:
    """Problems with one weekday's shifts: inverted, empty or overlapping intervals."""
    errors: list[str] = []
    ordered = sorted(hours)
    for start, end in ordered:
        if end != time.max and end <= start:
            errors.append(f"{start:%H:%M}–{end:%H:%M} ends before it starts")
    for (s1, e1), (s2, _e2) in itertools.pairwise(ordered):
        if s2 < e1:
            errors.append(f"{s1:%H:%M}–{e1:%H:%M} overlaps the shift starting {s2:%H:%M}")
    return errors
