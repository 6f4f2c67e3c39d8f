"""Evaluation periods: weekly (ISO weeks, Monday first), monthly and quarterly, with their boundaries
at midnight in Asia/Shanghai whatever the server's or the department's time zone.

A period is [starts_at, ends_at): a handoff requested at 2026-12-01 00:00 Shanghai time belongs to
December, one requested a second earlier to November.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput

TZ = ZoneInfo("Asia/Shanghai")


class PeriodKind(models.TextChoices):
    WEEKLY = "weekly", _("weekly")
    MONTHLY = "monthly", _("monthly")
    QUARTERLY = "quarterly", _("quarterly")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    kind: str
    start: date

    @property
    def end(self) -> date:
        """The last day of the period (inclusive)."""
        return self.next().start - timedelta(days=1)

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=TZ)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(self.next().start, time.min, tzinfo=TZ)

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.WEEKLY:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == PeriodKind.MONTHLY:
            return f"{self.start:%Y-%m}"
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    def next(self) -> Period:
        if self.kind == PeriodKind.WEEKLY:
            return Period(self.kind, self.start + timedelta(days=7))
        return Period(self.kind, _add_months(self.start, 1 if self.kind == PeriodKind.MONTHLY else 3))

    def previous(self) -> Period:
        if self.kind == PeriodKind.WEEKLY:
            return Period(self.kind, self.start - timedelta(days=7))
        return Period(self.kind, _add_months(self.start, -1 if self.kind == PeriodKind.MONTHLY else -3))

    def __str__(self) -> str:
        return self.label


def _check_kind(kind: str) -> None:
    if kind not in PeriodKind.values:
        message = f"Unknown period {kind!r}; use one of {', '.join(PeriodKind.values)}."
        raise InvalidInput(message, code="unknown_period", extra={"fields": {"period": [message]}})


def period_containing(kind: str, day: date) -> Period:
    _check_kind(kind)
    if kind == PeriodKind.WEEKLY:
        return Period(kind, day - timedelta(days=day.weekday()))
    if kind == PeriodKind.MONTHLY:
        return Period(kind, day.replace(day=1))
    return Period(kind, date(day.year, (day.month - 1) // 3 * 3 + 1, 1))


def period_starting(kind: str, start: date) -> Period:
    """The period that starts on `start`; a date that starts no period of that kind is bad input."""
    period = period_containing(kind, start)
    if period.start != start:
        message = (
            f"{start.isoformat()} does not start a {kind} period; "
            f"the period containing it starts on {period.start.isoformat()}."
        )
        raise InvalidInput(message, code="not_a_period_start", extra={"fields": {"start": [message]}})
    return period


def today() -> date:
    return timezone.now().astimezone(TZ).date()


def recent_periods(kind: str, count: int, *, until: date | None = None) -> list[Period]:
    """The `count` periods up to and including the one containing `until` (today), oldest first."""
    period = period_containing(kind, until or today())
    periods = [period]
    for _step in range(count - 1):
        period = period.previous()
        periods.append(period)
    return periods[::-1]
