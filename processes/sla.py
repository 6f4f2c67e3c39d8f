"""The SLA sweep: marks breaches, raises escalation levels and sends "due soon" warnings.

Set-based and batched (Saleor's sweeps): each step selects at most `batch_size` handoffs by state and
time with FOR UPDATE SKIP LOCKED (so two sweeps at once share the work instead of doing it twice),
updates them in one statement, writes their events with one bulk insert and their outbox entries
(facts only: who is told, and in which words, is worked out at delivery) with one more. The number of queries of a run is fixed; the task re-queues itself while a step filled its
batch. Every step's WHERE clause excludes what it already did, so a rerun changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from departments import snapshot as dept_snapshot
from processes import notifications as notes
from processes.models import CaseEvent, Handoff, Notification

Kind = Notification.Kind
OPEN = [Handoff.Status.PENDING, Handoff.Status.ACCEPTED]


@dataclass
class SweepResult:
    counts: dict[str, int] = field(default_factory=dict)
    more: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class _Claimed:
    id: int
    level: int
    case_id: int
    to_department_id: int


def _claim(qs: QuerySet[Handoff], order: str, limit: int) -> list[_Claimed]:
    """Lock up to `limit` rows nobody else is sweeping or changing.

    The case row is locked too, and a handoff whose case is locked is skipped (the next run takes
    it). A service holds its case FOR NO KEY UPDATE and then updates the handoff; the events and
    outbox rows written here reference the case, and their foreign-key check needs a KEY SHARE lock
    on it. Holding the handoff and then waiting for the case while the service waits for the handoff
    is a deadlock (PostgreSQL aborts one side: the whole batch, or the user's action).
    """
    handoffs = (
        qs.select_related("case")
        .select_for_update(skip_locked=True, no_key=True, of=("self", "case"))
        .only("id", "escalation_level", "case_id", "to_department_id", "case__id")
        .order_by(order)[:limit]
    )
    return [_Claimed(h.id, h.escalation_level, h.case_id, h.to_department_id) for h in handoffs]


def _department_names(rows: list[_Claimed]) -> dict[int, str]:
    """The receiving departments' names for the events, from the process's memory."""
    departments = dept_snapshot.snapshot(dept_snapshot.current_stamp())
    return {d: departments.department(d).name for d in {r.to_department_id for r in rows}}


def _events(rows: list[_Claimed], names: dict[int, str], kind: str, now: datetime, **payload) -> None:
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=r.case_id,
            handoff_id=r.id,
            kind=kind,
            department_id=r.to_department_id,
            created_at=now,
            payload={**payload, "to_department": names[r.to_department_id]},
        )
        for r in rows
    )


def _entries(rows: list[_Claimed], kind: str, key: str, now: datetime, **facts) -> list:
    return [
        notes.handoff_entry(kind, key.format(id=r.id), handoff_id=r.id, case_id=r.case_id, at=now, **facts)
        for r in rows
    ]


@transaction.atomic
def _breaches(clock: str, now: datetime, limit: int) -> int:
    due, breached = f"{clock}_due_at", f"{clock}_breached_at"
    statuses = [Handoff.Status.PENDING] if clock == "response" else OPEN
    qs = Handoff.objects.filter(status__in=statuses, paused_at=None, **{breached: None, f"{due}__lte": now})
    rows = _claim(qs, due, limit)
    if not rows:
        return 0
    newly_escalated = [r for r in rows if r.level == 0]
    Handoff.objects.filter(pk__in=[r.id for r in rows]).update(**{breached: F(due)})
    if newly_escalated:
        Handoff.objects.filter(pk__in=[r.id for r in newly_escalated]).update(
            escalation_level=1, escalated_at=now
        )
    names = _department_names(rows)
    _events(rows, names, CaseEvent.Kind.BREACHED, now, clock=clock)
    _events(newly_escalated, names, CaseEvent.Kind.ESCALATED, now, level=1, clock=clock)
    notes.enqueue(
        _entries(rows, Kind.BREACHED, f"breached:{clock}:{{id}}", now, clock=clock)
        + _entries(newly_escalated, Kind.ESCALATED, "escalated:1:{id}", now, level=1, clock=clock)
    )
    return len(rows)


@transaction.atomic
def _escalate_level_two(now: datetime, limit: int) -> int:
    after = timedelta(minutes=settings.BATON_LEVEL2_AFTER_MINUTES)
    qs = Handoff.objects.filter(
        status__in=OPEN, paused_at=None, escalation_level=1, escalated_at__lte=now - after
    )
    rows = _claim(qs, "escalated_at", limit)
    if not rows:
        return 0
    Handoff.objects.filter(pk__in=[r.id for r in rows]).update(escalation_level=2, escalated_at=now)
    _events(rows, _department_names(rows), CaseEvent.Kind.ESCALATED, now, level=2)
    notes.enqueue(_entries(rows, Kind.ESCALATED, "escalated:2:{id}", now, level=2))
    return len(rows)


@transaction.atomic
def _warnings(clock: str, now: datetime, limit: int) -> int:
    warn, warned, due, breached = (
        f"{clock}_warn_at",
        f"{clock}_warned_at",
        f"{clock}_due_at",
        f"{clock}_breached_at",
    )
    statuses = [Handoff.Status.PENDING] if clock == "response" else OPEN
    qs = Handoff.objects.filter(
        status__in=statuses,
        paused_at=None,
        **{warned: None, breached: None, f"{warn}__lte": now, f"{due}__gt": now},
    )
    rows = _claim(qs, warn, limit)
    if not rows:
        return 0
    Handoff.objects.filter(pk__in=[r.id for r in rows]).update(**{warned: now})
    _events(rows, _department_names(rows), CaseEvent.Kind.DUE_SOON, now, clock=clock)
    notes.enqueue(_entries(rows, Kind.DUE_SOON, f"due_soon:{clock}:{{id}}", now, clock=clock))
    return len(rows)


def sla_sweep(*, now: datetime | None = None, batch_size: int | None = None) -> SweepResult:
    """One bounded pass of every step; `more` says a step filled its batch and should run again."""
    now = now or timezone.now()
    limit = batch_size or settings.BATON_SWEEP_BATCH
    result = SweepResult()
    steps = {
        "response_breached": lambda: _breaches("response", now, limit),
        "resolution_breached": lambda: _breaches("resolution", now, limit),
        "escalated_level_2": lambda: _escalate_level_two(now, limit),
        "response_due_soon": lambda: _warnings("response", now, limit),
        "resolution_due_soon": lambda: _warnings("resolution", now, limit),
    }
    for name, step in steps.items():
        result.counts[name] = step()
        result.more |= result.counts[name] >= limit
    return result
