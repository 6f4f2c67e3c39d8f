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
        hours = self.local_hours(day)
        if not hours:
            return
        next_day = day + ONE_DAY
        offset = self.tz.utcoffset(datetime(day.year, day.month, day.day))
        if offset == self.tz.utcoffset(datetime(next_day.year, next_day.month, next_day.day)):
            # No clock change on this day (never in Asia/Shanghai): plain arithmetic, no zone look-ups.
            midnight = datetime.combine(next_day, time.min, tzinfo=UTC) - offset
            for start, end in hours:
                yield (
                    datetime.combine(day, start, tzinfo=UTC) - offset,
                    midnight if end == time.max else datetime.combine(day, end, tzinfo=UTC) - offset,
                )
            return
        for start, end in hours:
            start_at = self._instant(day, start)
            end_at = self._instant(day + ONE_DAY, time.min) if end == time.max else self._instant(day, end)
            yield start_at, end_at

    def _instant(self, day: date, wall: time) -> datetime:
        """The UTC instant of a local wall-clock time.

        A wall time skipped by a daylight-saving jump (02:30 on a spring-forward night) maps to the
        instant of the jump, so that later wall times never map to earlier instants; Python's own
        fold=0 reading would put it an hour later and make a shift across the gap end before it
        starts. https://peps.python.org/pep-0495/#mind-the-gap
        """
        local = datetime.combine(day, wall, tzinfo=self.tz)
        instant = local.astimezone(UTC)
        if instant.astimezone(self.tz).replace(tzinfo=None) == local.replace(tzinfo=None):
            return instant
        # The clock jumps within (fold=1 reading, fold=0 reading], on a whole second: bisect to it.
        before = local.replace(fold=1).astimezone(UTC).replace(microsecond=0)
        after = instant.replace(microsecond=0) + timedelta(seconds=1)
        offset_after = instant.astimezone(self.tz).utcoffset()
        while after - before > timedelta(seconds=1):
            middle = before + timedelta(seconds=(after - before) // timedelta(seconds=2))
            if middle.astimezone(self.tz).utcoffset() == offset_after:
                after = middle
            else:
                before = middle
        return after

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    # -- public arithmetic -------------------------------------------------------------------
    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which `duration` of business time has elapsed after `start`."""
        _require_aware(start)
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
        _require_aware(start, end)
        # Compare instants: Python compares two datetimes of one time zone by wall clock, ignoring DST.
        start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
        if end_utc < start_utc:
            return -self.between(end, start)
        if self.always_open:
            return end_utc - start_utc
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
        _require_aware(moment)
        if self.always_open:
            return True
        moment_utc = moment.astimezone(UTC)
        return any(begin <= moment_utc < end for begin, end in self.intervals(self._local_day(moment)))


def _require_aware(*moments: datetime) -> None:
    # A naive datetime would silently be read in the server's time zone (even on a 24×7 calendar).
    for moment in moments:
        if moment.utcoffset() is None:
            raise ValueError("business time needs an aware datetime")


def validate_hours(hours: Iterable[tuple[time, time]]) -> list[str]:
    """Problems with one weekday's shifts: inverted, empty or overlapping intervals."""
    errors: list[str] = []
    ordered = sorted(hours)
    for start, end in ordered:
        if end != time.max and end <= start:
            errors.append(f"{_hhmm(start)}–{_hhmm(end)} ends before it starts")
    for (s1, e1), (s2, _e2) in itertools.pairwise(ordered):
        if s2 < e1:
            errors.append(f"{_hhmm(s1)}–{_hhmm(e1)} overlaps the shift starting {_hhmm(s2)}")
    return errors


def _hhmm(value: time) -> str:
    return "24:00" if value == time.max else f"{value:%H:%M}"
