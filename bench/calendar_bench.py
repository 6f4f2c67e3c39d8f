"""Business-time arithmetic: calls per second of Schedule.add and Schedule.between.

Run from the project root: `.venv/bin/python bench/calendar_bench.py` (or `make bench`). Pure: no
database, no Django settings. Two schedules in Asia/Shanghai: the head office (Monday–Friday
09:00–12:00 + 13:30–17:30 with China's 2026 holidays and make-up working days from the `holidays`
package, as `manage.py import_holidays` would store them) and round the clock (24×7).

Figures are machine-dependent, so the baseline is measured in the same run: a naive walker, written
here, that steps through the calendar one minute at a time. It answers the same whole-minute spans
(and the bench checks that it agrees), so "ratio" is how many walker calls one Schedule call is worth.

Two span profiles: `year` (start and end anywhere in 2026: long spans, the worst case) and `sla` (end
within five calendar days of the start, the spans handoff clocks actually measure).
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time as clock
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays as holidays_lib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from departments.business_time import Schedule

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2026
MINUTE = timedelta(minutes=1)
HEAD_OFFICE_DAY = ((time(9), time(12)), (time(13, 30), time(17, 30)))


# -- the two schedules ----------------------------------------------------------------------------
def cn_holidays(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Holidays (weekends inside a holiday block included) and make-up working days, as the import does."""
    data = holidays_lib.country_holidays("CN", years=year)
    days = sorted(d for d in data if d.year == year)
    off = set(days)
    for before, after in itertools.pairwise(days):
        gap = [before + timedelta(days=i) for i in range(1, (after - before).days)]
        if 0 < len(gap) <= 2 and all(d.weekday() >= 5 for d in gap):
            off.update(gap)
    make_up = {d for d in data.weekend_workdays if d.year == year} - off
    return frozenset(off), frozenset(make_up)


def schedules() -> dict[str, Schedule]:
    off, make_up = cn_holidays(YEAR)
    return {
        "head office": Schedule(
            tz=TZ, weekly=dict.fromkeys(range(5), HEAD_OFFICE_DAY), holidays=off, extra_workdays=make_up
        ),
        "24x7": Schedule(tz=TZ, weekly={}, always_open=True),
    }


# -- the baseline: walk the calendar minute by minute -------------------------------------------------
def _working_minute(schedule: Schedule, local: datetime) -> bool:
    if schedule.always_open:
        return True
    wall = local.time()
    return any(
        start <= wall and (end == time.max or wall < end) for start, end in schedule.local_hours(local.date())
    )


def walker_add(schedule: Schedule, start: datetime, duration: timedelta) -> datetime:
    # Asia/Shanghai has no daylight saving, so stepping the local wall clock is stepping real time.
    moment = start.astimezone(schedule.tz)
    remaining = duration // MINUTE
    while remaining:
        if _working_minute(schedule, moment):
            remaining -= 1
        moment += MINUTE
    return moment


def walker_between(schedule: Schedule, start: datetime, end: datetime) -> timedelta:
    moment, end = start.astimezone(schedule.tz), end.astimezone(schedule.tz)
    minutes = 0
    while moment < end:
        minutes += _working_minute(schedule, moment)
        moment += MINUTE
    return minutes * MINUTE


# -- spans ---------------------------------------------------------------------------------------
def spans(rng: random.Random, profile: str, count: int) -> list[tuple[datetime, datetime]]:
    """Whole-minute (start, end) pairs in YEAR; whole minutes so that the walker's answers are exact."""
    first = datetime(YEAR, 1, 1, tzinfo=TZ)
    minutes_in_year = (datetime(YEAR + 1, 1, 1, tzinfo=TZ) - first) // MINUTE
    pairs = []
    for _ in range(count):
        a = rng.randrange(minutes_in_year)
        b = (
            rng.randrange(a, minutes_in_year)
            if profile == "year"
            else min(a + rng.randrange(5 * 24 * 60), minutes_in_year)
        )
        pairs.append((first + a * MINUTE, first + b * MINUTE))
    return pairs


def calls_per_second(
    call: Callable[[tuple], object], inputs: Sequence[tuple], budget: float
) -> tuple[float, int]:
    """Cycle through the inputs until `budget` seconds of CPU have been spent (at least 3 calls).

    CPU time of this process, not wall time: other programs on the machine then slow it down less.
    """
    started = clock.process_time()
    for calls, args in enumerate(itertools.cycle(inputs), start=1):
        call(args)
        elapsed = clock.process_time() - started
        if elapsed >= budget and calls >= 3:
            return calls / elapsed, calls
    raise AssertionError("unreachable")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per measurement (default 1)")
    parser.add_argument("--seed", type=int, default=YEAR)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    rows = []
    mean_days: dict[str, float] = {}
    for (name, schedule), profile in itertools.product(schedules().items(), ("year", "sla")):
        pairs = spans(rng, profile, 2000)
        mean_days[profile] = sum((b - a) / timedelta(days=1) for a, b in pairs) / len(pairs)
        add_inputs = [(a, schedule.between(a, b)) for a, b in pairs]
        # The walker gets the same inputs; check a few answers before timing it.
        for (a, duration), (_, b) in zip(add_inputs[:3], pairs[:3], strict=True):
            due = schedule.add(a, duration)
            assert walker_add(schedule, a, duration) == due, (name, a, duration)
            assert walker_between(schedule, a, b) == duration, (name, a, b)
        for operation, fast, slow, inputs in (
            ("add", lambda x, s=schedule: s.add(*x), lambda x, s=schedule: walker_add(s, *x), add_inputs),
            (
                "between",
                lambda x, s=schedule: s.between(*x),
                lambda x, s=schedule: walker_between(s, *x),
                pairs,
            ),
        ):
            fast_rate, fast_calls = calls_per_second(fast, inputs, args.budget)
            slow_rate, slow_calls = calls_per_second(slow, inputs, args.budget)
            rows.append((name, operation, profile, fast_rate, fast_calls, slow_rate, slow_calls))

    print(f"Business-time arithmetic, Python {sys.version.split()[0]}, {args.budget:g} s of CPU per cell")
    print(
        f"spans: year = start and end anywhere in {YEAR} (mean {mean_days['year']:.0f} days), "
        f"sla = end within 5 days (mean {mean_days['sla']:.1f} days)"
    )
    table = [
        ("schedule", "operation", "spans", "Schedule calls/s", "calls", "walker calls/s", "calls", "ratio")
    ]
    for name, operation, profile, fast_rate, fast_calls, slow_rate, slow_calls in rows:
        table.append(
            (
                name,
                operation,
                profile,
                f"{fast_rate:,.0f}",
                f"{fast_calls:,}",
                f"{slow_rate:,.1f}",
                f"{slow_calls:,}",
                f"{fast_rate / slow_rate:,.0f}×",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for index, row in enumerate(table):
        print(
            "  ".join(
                cell.ljust(w) if i < 3 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
