"""SLA clocks of handoffs: due times, elapsed business time and the badge state.

Every computation goes through the receiving department's business calendar. `ScheduleCache` loads
each calendar once per request or task, so a list of a thousand handoffs costs a few queries.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from departments.business_time import Schedule
from departments.snapshot import load_schedules

DUE_SOON_FRACTION = 0.8


_shared: ContextVar[dict[int, Schedule] | None] = ContextVar("shared_schedules", default=None)


@contextmanager
def shared_schedules():
    """Within this block every ScheduleCache shares its calendars: for long batch jobs (demo history,
    imports) that make thousands of service calls against calendars nobody edits meanwhile."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


class ScheduleCache:
    """Calendar id → Schedule, loaded in three queries for all calendars asked for at once."""

    def __init__(self) -> None:
        shared = _shared.get()
        self._schedules: dict[int, Schedule] = shared if shared is not None else {}

    def preload(self, calendar_ids: set[int]) -> None:
        missing = {cid for cid in calendar_ids if cid not in self._schedules}
        if missing:
            self._schedules.update(load_schedules(missing))

    def get(self, calendar_id: int) -> Schedule:
        if calendar_id not in self._schedules:
            self.preload({calendar_id})
        return self._schedules[calendar_id]


@dataclass(frozen=True)
class SlaState:
    clock: str  # "response" | "resolution" | "none"
    badge: str  # "on_time" | "due_soon" | "breached" | "paused" | "done"
    due_at: datetime | None
    business_seconds_left: int | None


def sla_state(handoff, schedule: Schedule, now: datetime) -> SlaState:
    """The clock that runs now for a handoff, how much business time is left and its badge."""
    from processes.models import Handoff

    if handoff.status == Handoff.Status.PENDING:
        clock, due, warn_at = "response", handoff.response_due_at, handoff.response_warn_at
    elif handoff.status == Handoff.Status.ACCEPTED:
        clock, due, warn_at = "resolution", handoff.resolution_due_at, handoff.resolution_warn_at
    else:
        return SlaState("none", "done", None, None)
    if handoff.paused_at is not None:
        left = schedule.between(handoff.paused_at, due)
        return SlaState(clock, "paused", due, int(left.total_seconds()))
    left = int(schedule.between(now, due).total_seconds())
    if left <= 0:
        badge = "breached"
    elif warn_at is not None and now >= warn_at:
        # The same instant the sweep warns at (stored at request time, moved by pauses).
        badge = "due_soon"
    else:
        badge = "on_time"
    return SlaState(clock, badge, due, left)


def format_business_seconds(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    td = timedelta(seconds=abs(seconds))
    hours, rem = divmod(int(td.total_seconds()), 3600)
    return f"{sign}{hours}:{rem // 60:02d}"


def format_duration(seconds: int) -> str:
    """A length of business time for people: "45 min", "2 h 05 min", "692 h 10 min"."""
    hours, rem = divmod(abs(int(seconds)), 3600)
    if not hours:
        return _("%(minutes)d min") % {"minutes": rem // 60}
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": rem // 60}


def format_time_left(seconds: int | None) -> str:
    """What is left on a running clock, or by how much it is overdue: never a negative "-692:10"."""
    if seconds is None:
        return "—"
    if seconds < 0:
        return _("overdue by %(time)s") % {"time": format_duration(seconds)}
    return _("%(time)s left") % {"time": format_duration(seconds)}
