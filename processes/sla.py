"""The SLA sweep: marks breaches, raises escalation levels and sends "due soon" warnings.

Set-based and batched (Saleor's sweeps): each step selects at most `batch_size` handoffs by state and
time with FOR UPDATE SKIP LOCKED (so two sweeps at once share the work instead of doing it twice),
updates them in one statement, and writes their events and their outbox entries (facts only: who is
told, and in which words, is worked out at delivery) with one INSERT … SELECT each, built by the
database from the handoffs rather than as Python objects. The number of queries of a run is fixed; the task re-queues itself while a step filled its
batch. Every step's WHERE clause excludes what it already did, so a rerun changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.db.models.constants import OnConflict
from django.utils import timezone

from departments.models import Department
from processes import notifications as notes
from processes.models import CaseEvent, Handoff, Notification, OutboxEntry

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


def _json(**values: str) -> str:
    """A JSON object built by the database from SQL expressions (jsonb on PostgreSQL, text on SQLite)."""
    build = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    pairs = ", ".join(f"'{key}', {sql}" for key, sql in values.items())
    return f"{build}({pairs})"


def _at(moment: datetime):
    """A time as the ORM would store it (SQLite keeps text in its own format)."""
    return connection.ops.adapt_datetimefield_value(moment)


def _facts(fixed: dict[str, object]) -> tuple[dict[str, str], list]:
    """SQL for fixed JSON values (strings and integers from the code, never from users), typed for
    PostgreSQL's server-side parameters."""
    sql, params = {}, []
    for key, value in fixed.items():
        sql[key] = "CAST(%s AS INTEGER)" if isinstance(value, int) else "CAST(%s AS TEXT)"
        params.append(value)
    return sql, params


def _insert_events(rows: list[_Claimed], kind: str, now: datetime, **payload: object) -> None:
    """The rows' events in one INSERT … SELECT: built by the database from the handoffs (with the
    receiving department's name), not as Python objects, so the sweep costs what its SQL costs."""
    if not rows:
        return
    qn = connection.ops.quote_name
    fields, params = _facts(payload)
    body = _json(**fields, to_department="d.name")
    marks = ", ".join(["%s"] * len(rows))
    sql = (
        f"INSERT INTO {qn(CaseEvent._meta.db_table)} "  # noqa: S608 (names from the models; values are parameters)
        "(case_id, handoff_id, kind, actor_id, department_id, created_at, payload) "
        f"SELECT h.case_id, h.id, CAST(%s AS TEXT), NULL, h.to_department_id, %s, {body} "
        f"FROM {qn(Handoff._meta.db_table)} h JOIN {qn(Department._meta.db_table)} d "
        f"ON d.id = h.to_department_id WHERE h.id IN ({marks}) ORDER BY h.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind, _at(now), *params, *(r.id for r in rows)])


def _insert_entries(rows: list[_Claimed], kind: str, key: str, now: datetime, **facts: object) -> None:
    """The rows' outbox entries (facts: the handoff and the fixed facts) in one INSERT … SELECT;
    `key` is the de-duplication key's prefix, completed with the handoff's id."""
    if not rows or notes.muted_now():
        return
    qn = connection.ops.quote_name
    fields, params = _facts(facts)
    body = _json(handoff="h.id", **fields)
    marks = ", ".join(["%s"] * len(rows))
    head = connection.ops.insert_statement(on_conflict=OnConflict.IGNORE)
    table = OutboxEntry._meta
    sql = (
        f"{head} {qn(table.db_table)} (kind, case_id, facts, dedup_key, status, created_at, addressed_at) "  # noqa: S608
        f"SELECT CAST(%s AS TEXT), h.case_id, {body}, CAST(%s AS TEXT) || h.id, CAST(%s AS TEXT), %s, NULL "
        f"FROM {qn(Handoff._meta.db_table)} h WHERE h.id IN ({marks}) ORDER BY h.id "
        + connection.ops.on_conflict_suffix_sql([table.get_field("dedup_key")], OnConflict.IGNORE, None, None)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind, *params, key, OutboxEntry.Status.PENDING, _at(now), *(r.id for r in rows)])
    transaction.on_commit(notes.kick_delivery, robust=True)


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
    _insert_events(rows, CaseEvent.Kind.BREACHED, now, clock=clock)
    _insert_events(newly_escalated, CaseEvent.Kind.ESCALATED, now, level=1, clock=clock)
    _insert_entries(rows, Kind.BREACHED, f"breached:{clock}:", now, clock=clock)
    _insert_entries(newly_escalated, Kind.ESCALATED, "escalated:1:", now, level=1, clock=clock)
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
    _insert_events(rows, CaseEvent.Kind.ESCALATED, now, level=2)
    _insert_entries(rows, Kind.ESCALATED, "escalated:2:", now, level=2)
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
    _insert_events(rows, CaseEvent.Kind.DUE_SOON, now, clock=clock)
    _insert_entries(rows, Kind.DUE_SOON, f"due_soon:{clock}:", now, clock=clock)
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
