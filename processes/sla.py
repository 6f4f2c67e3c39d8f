"""The SLA sweep: marks breaches, raises escalation levels and sends "due soon" warnings.

Set-based and batched (Saleor's sweeps): each step selects at most `batch_size` handoffs by state and
time with FOR UPDATE SKIP LOCKED (so two sweeps at once share the work instead of doing it twice),
updates them in one statement, writes their events with one bulk insert and queues their e-mails with
one more. The number of queries of a run is fixed; the task re-queues itself while a step filled its
batch. Every step's WHERE clause excludes what it already did, so a rerun changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from departments.models import Membership
from processes import notifications as notes
from processes.models import CaseEvent, Handoff, Notification

Kind = Notification.Kind
OPEN = [Handoff.Status.PENDING, Handoff.Status.ACCEPTED]
ROLES_ALL = [Membership.Role.MEMBER, Membership.Role.LEAD]


@dataclass
class SweepResult:
    counts: dict[str, int] = field(default_factory=dict)
    more: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _claim(qs: QuerySet[Handoff], order: str, limit: int) -> list[tuple[int, int]]:
    """Lock up to `limit` rows nobody else is sweeping or changing; (id, escalation level) of each.

    The case row is locked too, and a handoff whose case is locked is skipped (the next run takes
    it). A service holds its case FOR UPDATE and then updates the handoff; the events and outbox
    rows written here reference the case, and their foreign-key check needs a KEY SHARE lock on it.
    Holding the handoff and then waiting for the case while the service waits for the handoff is a
    deadlock (PostgreSQL aborts one side: the whole batch, or the user's action).
    """
    handoffs = (
        qs.select_related("case")
        .select_for_update(skip_locked=True, of=("self", "case"))
        .only("id", "escalation_level", "case__id")
        .order_by(order)[:limit]
    )
    return [(h.id, h.escalation_level) for h in handoffs]


def _events(rows: list[tuple[int, int]], infos: dict, kind: str, now: datetime, **payload) -> None:
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=infos[hid].case_id,
            handoff_id=hid,
            kind=kind,
            department_id=infos[hid].to_department_id,
            created_at=now,
            payload={**payload, "to_department": infos[hid].to_department},
        )
        for hid, _level in rows
    )


def _people_on(infos: dict, kind: str) -> dict[int, list[notes.Recipient]]:
    """Per handoff: its assignee, or else (nobody claimed it, or the assignee has left) every member
    of the receiving department. An assignee who opted out of this kind gets nothing, and neither do
    their colleagues: the opt-out is not a reason to tell the whole department."""
    by_dept = notes.department_recipients({i.to_department_id for i in infos.values()}, ROLES_ALL, kind)
    assignee_ids = {i.assignee_id for i in infos.values() if i.assignee_id}
    wanting = notes.user_recipients(assignee_ids, kind)
    active = notes.active_user_ids(assignee_ids)
    people = {}
    for hid, info in infos.items():
        if info.assignee_id in active:
            people[hid] = [wanting[info.assignee_id]] if info.assignee_id in wanting else []
        else:
            people[hid] = by_dept.get(info.to_department_id, [])
    return people


def _leads_of(department_ids: set[int], kind: str) -> dict[int, list[notes.Recipient]]:
    return notes.department_recipients(department_ids, [Membership.Role.LEAD], kind)


@transaction.atomic
def _breaches(clock: str, now: datetime, limit: int) -> int:
    due, breached = f"{clock}_due_at", f"{clock}_breached_at"
    statuses = [Handoff.Status.PENDING] if clock == "response" else OPEN
    qs = Handoff.objects.filter(status__in=statuses, paused_at=None, **{breached: None, f"{due}__lte": now})
    rows = _claim(qs, due, limit)
    if not rows:
        return 0
    ids = [hid for hid, _level in rows]
    newly_escalated = [(hid, level) for hid, level in rows if level == 0]
    Handoff.objects.filter(pk__in=ids).update(**{breached: F(due)})
    if newly_escalated:
        Handoff.objects.filter(pk__in=[h for h, _ in newly_escalated]).update(
            escalation_level=1, escalated_at=now
        )
    infos = notes.handoff_infos(ids)
    _events(rows, infos, CaseEvent.Kind.BREACHED, now, clock=clock)
    _events(newly_escalated, infos, CaseEvent.Kind.ESCALATED, now, level=1, clock=clock)
    people = _people_on(infos, Kind.BREACHED)
    leads = _leads_of({infos[h].to_department_id for h, _ in newly_escalated}, Kind.ESCALATED)
    outbox = []
    for hid in ids:
        outbox += notes.build(
            Kind.BREACHED, people[hid], infos[hid], key=f"breached:{clock}:{hid}", extra={"clock": clock}
        )
    for hid, _level in newly_escalated:
        info = infos[hid]
        outbox += notes.build(
            Kind.ESCALATED,
            leads.get(info.to_department_id, []),
            info,
            key=f"escalated:1:{hid}",
            extra={"level": 1, "clock": clock},
        )
    notes.enqueue(outbox, at=now)
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
    ids = [hid for hid, _level in rows]
    Handoff.objects.filter(pk__in=ids).update(escalation_level=2, escalated_at=now)
    infos = notes.handoff_infos(ids)
    _events(rows, infos, CaseEvent.Kind.ESCALATED, now, level=2)
    parent_leads = _leads_of(
        {i.parent_department_id for i in infos.values() if i.parent_department_id}, Kind.ESCALATED
    )
    office = notes.quality_office_recipients(Kind.ESCALATED)
    outbox = []
    for hid in ids:
        info = infos[hid]
        recipients = parent_leads.get(info.parent_department_id, []) + list(office)
        outbox += notes.build(Kind.ESCALATED, recipients, info, key=f"escalated:2:{hid}", extra={"level": 2})
    notes.enqueue(outbox, at=now)
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
    ids = [hid for hid, _level in rows]
    Handoff.objects.filter(pk__in=ids).update(**{warned: now})
    infos = notes.handoff_infos(ids)
    _events(rows, infos, CaseEvent.Kind.DUE_SOON, now, clock=clock)
    people = _people_on(infos, Kind.DUE_SOON)
    outbox = []
    for hid in ids:
        outbox += notes.build(
            Kind.DUE_SOON, people[hid], infos[hid], key=f"due_soon:{clock}:{hid}", extra={"clock": clock}
        )
    notes.enqueue(outbox, at=now)
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
