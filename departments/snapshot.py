"""Departments and business calendars kept in memory by each process, across requests and tasks.

A state change needs the receiving department's calendar for every due time it computes; loading it
costs three queries. Each process keeps what it loaded under the value of the configuration stamp
(`ConfigStamp`) it was loaded with. A caller passes the stamp it read, usually as one more column of
the statement that locks its rows (processes.locking) or finds its API key, and gets the copy of that stamp: an edit in
the admin changes the stamp, so the next computation in any process loads the calendar again.

Without a stamp (a flushed test database) nothing is kept: every call loads afresh.
"""

from __future__ import annotations

import threading
from datetime import time

from departments.business_time import Schedule
from departments.models import BusinessCalendar, CalendarException, Department, WorkingHours


def load_schedules(calendar_ids: set[int]) -> dict[int, Schedule]:
    """Calendar id → Schedule for all the given calendars, in three queries."""
    if not calendar_ids:
        return {}
    calendars = {c.pk: c for c in BusinessCalendar.objects.filter(pk__in=calendar_ids)}
    weekly: dict[int, dict[int, list]] = {cid: {} for cid in calendars}
    for cid, weekday, start, end in WorkingHours.objects.filter(calendar_id__in=calendar_ids).values_list(
        "calendar_id", "weekday", "start", "end"
    ):
        weekly[cid].setdefault(weekday, []).append((start, time.max if end == time.min else end))
    holidays: dict[int, set] = {cid: set() for cid in calendars}
    extra: dict[int, set] = {cid: set() for cid in calendars}
    for cid, day, kind in CalendarException.objects.filter(calendar_id__in=calendar_ids).values_list(
        "calendar_id", "date", "kind"
    ):
        (holidays if kind == CalendarException.Kind.HOLIDAY else extra)[cid].add(day)
    return {
        cid: Schedule(
            tz=calendar.tz,
            weekly={k: tuple(sorted(v)) for k, v in weekly[cid].items()},
            holidays=frozenset(holidays[cid]),
            extra_workdays=frozenset(extra[cid]),
            extra_workday_like=calendar.extra_workday_like,
            always_open=calendar.always_open,
        )
        for cid, calendar in calendars.items()
    }


class Snapshot:
    """What one process holds under one stamp. Nothing in it is ever changed by a caller."""

    def __init__(self, stamp: int | None) -> None:
        self.stamp = stamp
        self._departments: dict[int, Department] | None = None
        self._schedules: dict[int, Schedule] = {}
        self._lock = threading.Lock()

    def department(self, department_id: int) -> Department:
        if self._departments is None or department_id not in self._departments:
            with self._lock:
                self._departments = {d.pk: d for d in Department.objects.all()}
        return self._departments[department_id]

    def schedule(self, calendar_id: int) -> Schedule:
        schedule = self._schedules.get(calendar_id)
        if schedule is None:
            with self._lock:
                self._schedules.update(load_schedules({calendar_id}))
            schedule = self._schedules[calendar_id]
        return schedule

    get = schedule  # the interface of processes.clock.ScheduleCache, for serializers

    def department_schedule(self, department_id: int) -> Schedule:
        return self.schedule(self.department(department_id).calendar_id)


_current = Snapshot(None)


def snapshot(stamp: int | None) -> Snapshot:
    """The process's copy for this stamp (a new, empty one when the stamp moved or is missing)."""
    global _current
    current = _current
    if stamp is None or current.stamp != stamp:
        current = Snapshot(stamp)
        if stamp is not None:
            _current = current
    return current
