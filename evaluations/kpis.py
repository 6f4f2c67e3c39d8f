"""The KPIs as SQL aggregates, grouped by department: a fixed number of queries per period whatever
the number of departments or handoffs, and nothing looped over in Python but the few rows the
aggregates return.

Definitions (numerator, denominator, period, exclusions) are written in docs/kpis.md; every filter
below is named after the sentence there that it implements.

    measure(window)  → {department_id: {kpi_code: Measure(value, sample_size)}}   5 queries
    handoff_flow(..) → {(from_id, to_id): FlowCell}                               2 queries

Percentiles: PostgreSQL's `percentile_cont`; on SQLite (no ordered-set aggregates) one window query
keeps only the rows at the interpolation positions of each group and Python interpolates those few
values the way `percentile_cont` does, so both give the same answer for the same data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from evaluations.models import Direction, Inspection, Kpi
from processes.models import CaseEvent, CaseLink, Handoff

Code = Kpi.Code
ACCEPT_PERCENTS = (50, 90)
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Window:
    """[start, end) in aware datetimes; `as_of` decides which pending clocks have run out."""

    start: datetime
    end: datetime
    as_of: datetime


@dataclass(frozen=True)
class Measure:
    value: Decimal | None
    sample_size: int


def _round(value: Decimal | float | int) -> Decimal:
    if not isinstance(value, Decimal):
        value = Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    """A percentage of two counts; no denominator is no value (never 0 %)."""
    if not denominator:
        return None
    return _round(Decimal(numerator) * HUNDRED / Decimal(denominator))


# -- which handoffs count ---------------------------------------------------------------------------
# "A handoff counts in the period of its requested_at."
def _requested_in(window: Window) -> Q:
    return Q(requested_at__gte=window.start, requested_at__lt=window.end)


# "Cancelled handoffs that never got a response are excluded" (a reopen or a cancellation withdrew
# them before the department answered): everything else is a handoff the department received.
# A case closed as a duplicate of another is counted once, as its primary: its handoffs are left out.
NOT_A_DUPLICATE = ~Q(
    Exists(CaseLink.objects.filter(case_id=OuterRef("case_id"), kind=CaseLink.Kind.DUPLICATE_OF))
)
RECEIVED = ~Q(status=Handoff.Status.CANCELLED, accepted_at__isnull=True) & NOT_A_DUPLICATE
OPEN = (Handoff.Status.PENDING, Handoff.Status.ACCEPTED)

# The response: accepting, or returning a still-pending handoff to its sender.
RESPONDED = Q(accepted_at__isnull=False) | Q(returned_at__isnull=False)
RESPONSE_IN_TIME = Q(response_breached_at__isnull=True) & (
    Q(accepted_at__isnull=False, accepted_at__lte=F("response_due_at"))
    | Q(accepted_at__isnull=True, returned_at__isnull=False, returned_at__lte=F("response_due_at"))
)


def _response_decided(as_of: datetime) -> Q:
    """Answered, or marked breached, or still pending after its due time: the response is decided.
    A pending handoff whose response is not yet due is undecided and left out."""
    return (
        RESPONDED
        | Q(response_breached_at__isnull=False)
        | Q(status=Handoff.Status.PENDING, response_due_at__lte=as_of)
    )


RESOLUTION_IN_TIME = Q(status=Handoff.Status.COMPLETED, resolution_breached_at__isnull=True)


def _resolution_missed(as_of: datetime) -> Q:
    """Breached (whatever happened next), or open and running past its due time. A paused clock is
    not past due: its due time moves when it resumes."""
    return Q(resolution_breached_at__isnull=False) | Q(
        status__in=OPEN, paused_at__isnull=True, resolution_due_at__lte=as_of
    )


def received_handoffs(window: Window) -> QuerySet[Handoff]:
    return Handoff.objects.filter(RECEIVED, _requested_in(window))


# -- percentiles --------------------------------------------------------------------------------------
def percentiles(
    queryset: QuerySet, group_by: tuple[str, ...], value: str, percents: tuple[int, ...]
) -> dict[tuple, dict[int, float]]:
    """{group key: {percent: percentile_cont(percent / 100) of `value`}} over `queryset` (rows whose
    value is NULL are left out), in one query on either database."""
    rows = queryset.filter(**{f"{value}__isnull": False}).order_by().values(*group_by, value)
    if connection.vendor == "postgresql":
        return _percentiles_postgres(rows, group_by, value, percents)
    return _percentiles_by_window(rows, group_by, value, percents)


def _percentiles_postgres(
    rows: QuerySet, group_by: tuple[str, ...], value: str, percents: tuple[int, ...]
) -> dict[tuple, dict[int, float]]:
    """percentile_cont over the ORM's own filtered query, behind `OFFSET 0`: PostgreSQL's planning
    fence. Without it the planner feeds the ordered-set aggregate (which needs its input grouped in
    order) from an index scan on the department column, i.e. one random heap read per handoff: 7 s
    for a month of 1M handoffs on the bench, against 1.2 s for one sequential scan and one sort."""
    inner_sql, params = rows.query.sql_with_params()
    qn = connection.ops.quote_name
    keys = ", ".join(f"base.{qn(g)}" for g in group_by)
    measures = ", ".join(
        f"percentile_cont({p / 100!r}) WITHIN GROUP (ORDER BY base.{qn(value)})" for p in percents
    )
    # Names and numbers are ours (field names, integer percents); the values are parameters.
    sql = f"SELECT {keys}, {measures} FROM ({inner_sql} OFFSET 0) base GROUP BY {keys}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    n = len(group_by)
    return {tuple(row[:n]): dict(zip(percents, row[n:], strict=True)) for row in found}


def _percentiles_by_window(
    rows: QuerySet, group_by: tuple[str, ...], value: str, percents: tuple[int, ...]
) -> dict[tuple, dict[int, float]]:
    """percentile_cont(p) = v[lo] + (v[hi] − v[lo]) × (pos − lo), pos = p × (n − 1) over the sorted
    values v[0..n−1], lo = ⌊pos⌋, hi = ⌈pos⌉. The positions are integer arithmetic in SQL, so the
    query returns at most two rows per percentile and group."""
    inner_sql, params = rows.query.sql_with_params()
    qn = connection.ops.quote_name
    keys = ", ".join(f"base.{qn(g)}" for g in group_by)
    positions = []
    for p in percents:
        positions += [f"(n - 1) * {p} / 100", f"((n - 1) * {p} + 99) / 100"]
    v = f"base.{qn(value)}"
    window = f"OVER (PARTITION BY {keys}"
    ranked = f"{keys}, {v} AS v, ROW_NUMBER() {window} ORDER BY {v}) - 1 AS rn, COUNT(*) {window}) AS n"
    columns = ", ".join(qn(g) for g in group_by)
    # Every name and number here is ours (field names, integer percents); the values are parameters.
    sql = (
        f"SELECT {columns}, v, rn, n FROM (SELECT {ranked} FROM ({inner_sql}) base) ranked "  # noqa: S608
        f"WHERE rn IN ({', '.join(positions)})"
    )
    picked: dict[tuple, dict[int, Any]] = defaultdict(dict)
    sizes: dict[tuple, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for *key, v, rn, n in cursor.fetchall():
            picked[tuple(key)][rn] = v
            sizes[tuple(key)] = n
    result = {}
    for key, values in picked.items():
        n = sizes[key]
        out = {}
        for p in percents:
            lo, remainder = divmod((n - 1) * p, 100)
            hi = lo + (1 if remainder else 0)
            out[p] = float(values[lo]) + (float(values[hi]) - float(values[lo])) * (remainder / 100)
        result[key] = out
    return result


def _seconds_to_minutes(seconds: float) -> Decimal:
    # Percentiles of whole seconds at whole percents have at most two decimals: rounding the float
    # there first gives the exact value on both databases, and then minutes round the same way.
    return _round(Decimal(repr(round(seconds, 6))) / Decimal(60))


# -- the KPI queries ----------------------------------------------------------------------------------
def _handoff_counts(window: Window) -> dict[int, dict[str, int]]:
    decided = _response_decided(window.as_of)
    missed = _resolution_missed(window.as_of)
    rows = (
        received_handoffs(window)
        .values("to_department_id")
        .annotate(
            received=Count("pk"),
            returned=Count("pk", filter=Q(status=Handoff.Status.RETURNED)),
            accepted=Count("seconds_to_accept"),
            response_decided=Count("pk", filter=decided),
            response_met=Count("pk", filter=decided & RESPONSE_IN_TIME),
            resolution_decided=Count("pk", filter=RESOLUTION_IN_TIME | missed),
            resolution_met=Count("pk", filter=RESOLUTION_IN_TIME),
        )
        .order_by()
    )
    return {row.pop("to_department_id"): row for row in rows}


def _accept_percentiles(window: Window) -> dict[int, dict[int, float]]:
    found = percentiles(
        received_handoffs(window), ("to_department_id",), "seconds_to_accept", ACCEPT_PERCENTS
    )
    return {key[0]: value for key, value in found.items()}


def _event_counts(window: Window) -> dict[int, dict[str, int]]:
    """Resolved and reopened events in the period, each charged to its event's department (the
    resolving department: a reopening is charged to whoever resolved the case); and the cases opened,
    charged to the intake department, with those flagged as repeat complaints."""
    rows = (
        CaseEvent.objects.filter(
            NOT_A_DUPLICATE,
            kind__in=[CaseEvent.Kind.RESOLVED, CaseEvent.Kind.REOPENED, CaseEvent.Kind.CREATED],
            created_at__gte=window.start,
            created_at__lt=window.end,
            department_id__isnull=False,
        )
        .values("department_id")
        .annotate(
            resolved=Count("pk", filter=Q(kind=CaseEvent.Kind.RESOLVED)),
            reopened=Count("pk", filter=Q(kind=CaseEvent.Kind.REOPENED)),
            opened=Count("pk", filter=Q(kind=CaseEvent.Kind.CREATED)),
            repeats=Count("pk", filter=Q(kind=CaseEvent.Kind.CREATED, payload__repeat_complaint=True)),
        )
        .order_by()
    )
    return {row.pop("department_id"): row for row in rows}


def _feedback_counts(window: Window) -> dict[int, dict[str, int]]:
    """Feedback answered in the period, for every department that received a handoff of its case.

    Starting from the handoffs, a department that received a case twice would see its feedback twice;
    counting distinct feedback rows per answer value avoids that without a second pass."""
    fb = "case__feedback__"
    answered = Q(**{f"{fb}responded_at__gte": window.start, f"{fb}responded_at__lt": window.end})

    def distinct(condition: Q) -> Count:
        return Count(f"{fb}pk", filter=condition, distinct=True)

    annotations = {f"csat_{k}": distinct(Q(**{f"{fb}csat": k})) for k in range(1, 6)}
    annotations.update(
        nps_n=distinct(Q(**{f"{fb}nps__isnull": False})),
        promoters=distinct(Q(**{f"{fb}nps__gte": 9})),
        detractors=distinct(Q(**{f"{fb}nps__lte": 6})),
    )
    rows = Handoff.objects.filter(RECEIVED, answered).values("to_department_id").annotate(**annotations)
    return {row.pop("to_department_id"): row for row in rows.order_by()}


def _qa_levels(window: Window) -> dict[int, list[dict[str, Any]]]:
    """Completed inspections of cases resolved in the period, per department and level."""
    rows = (
        Inspection.objects.filter(
            status=Inspection.Status.COMPLETED,
            case_resolved_at__gte=window.start,
            case_resolved_at__lt=window.end,
        )
        .values("department_id", "level")
        .annotate(n=Count("pk"), score_sum=Sum("score"), weight_sum=Sum("level_weight"))
        .order_by()
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row["department_id"]].append(row)
    return out


def _qa_score(levels: list[dict[str, Any]]) -> Measure:
    """Σ over levels of (mean level weight × mean score) / Σ mean level weights. With one scorecard
    the mean level weight is that scorecard's weight for the level."""
    numerator = denominator = Decimal(0)
    sample = 0
    for row in levels:
        n = Decimal(row["n"])
        weight = Decimal(row["weight_sum"] or 0) / n
        if weight <= 0:
            continue
        mean = _round(Decimal(repr(float(row["score_sum"]))) if row["score_sum"] is not None else 0) / n
        numerator += weight * mean
        denominator += weight
        sample += row["n"]
    if not denominator:
        return Measure(None, 0)
    return Measure(_round(numerator / denominator), sample)


def measure(window: Window) -> dict[int, dict[str, Measure]]:
    """Every KPI of every department with data in the window, in five aggregate queries."""
    handoffs = _handoff_counts(window)
    accept = _accept_percentiles(window)
    events = _event_counts(window)
    feedback = _feedback_counts(window)
    qa = _qa_levels(window)
    result: dict[int, dict[str, Measure]] = {}
    for dept in set(handoffs) | set(accept) | set(events) | set(feedback) | set(qa):
        h = handoffs.get(dept) or defaultdict(int)
        e = events.get(dept) or defaultdict(int)
        f = feedback.get(dept) or defaultdict(int)
        p = accept.get(dept)
        accepted = h["accepted"]
        csat_n = sum(f[f"csat_{k}"] for k in range(1, 6))
        csat_sum = sum(k * f[f"csat_{k}"] for k in range(1, 6))
        nps_n = f["nps_n"]
        result[dept] = {
            Code.RESPONSE_SLA_RATE: Measure(
                _ratio(h["response_met"], h["response_decided"]), h["response_decided"]
            ),
            Code.RESOLUTION_SLA_RATE: Measure(
                _ratio(h["resolution_met"], h["resolution_decided"]), h["resolution_decided"]
            ),
            Code.MEDIAN_MINUTES_TO_ACCEPT: Measure(_seconds_to_minutes(p[50]) if p else None, accepted),
            Code.P90_MINUTES_TO_ACCEPT: Measure(_seconds_to_minutes(p[90]) if p else None, accepted),
            Code.BOUNCE_RATE: Measure(_ratio(h["returned"], h["received"]), h["received"]),
            Code.REOPEN_RATE: Measure(_ratio(e["reopened"], e["resolved"]), e["resolved"]),
            Code.REPEAT_COMPLAINT_RATE: Measure(_ratio(e["repeats"], e["opened"]), e["opened"]),
            Code.CSAT_AVG: Measure(_round(Decimal(csat_sum) / csat_n) if csat_n else None, csat_n),
            Code.NPS: Measure(_ratio(f["promoters"] - f["detractors"], nps_n), nps_n),
            Code.QA_SCORE: _qa_score(qa.get(dept, [])),
            Code.VOLUME: Measure(Decimal(h["received"]) if h["received"] else None, h["received"]),
        }
    return result


# -- scoring ------------------------------------------------------------------------------------------
def attainment(value: Decimal, target: Decimal, direction: str) -> Decimal:
    """How much of the target is reached, capped at 1 and never below 0.

    higher is better: 1 at or above the target, else value / target (0 if the target is ≤ 0);
    lower is better:  1 at or below the target, else target / value."""
    if direction == Direction.HIGHER:
        if value >= target:
            return Decimal(1)
        return max(Decimal(0), value / target) if target > 0 else Decimal(0)
    if value <= target:
        return Decimal(1)
    return max(Decimal(0), target / value) if value > 0 else Decimal(0)


def met(value: Decimal, target: Decimal, direction: str) -> bool:
    return value >= target if direction == Direction.HIGHER else value <= target


def grade(score: Decimal | None) -> str:
    if score is None:
        return ""
    for threshold, letter in ((90, "A"), (80, "B"), (70, "C")):
        if score >= threshold:
            return letter
    return "D"


@dataclass(frozen=True)
class Scored:
    code: str
    value: Decimal | None
    target: Decimal | None
    weight: Decimal
    direction: str
    unit: str
    met: bool | None
    points: Decimal | None
    sample_size: int


def score(measures: dict[str, Measure], kpis: list[Kpi]) -> tuple[list[Scored], Decimal | None, str]:
    """Each KPI with data and a target earns min(attainment, 1) × 100 points; the overall score is
    their weighted mean, the weights renormalised over the KPIs that have data (no data: no score)."""
    scored = []
    total = weights = Decimal(0)
    for kpi in kpis:
        m = measures.get(kpi.code) or Measure(None, 0)
        points = is_met = None
        if m.value is not None and kpi.target is not None:
            is_met = met(m.value, kpi.target, kpi.direction)
            points = _round(attainment(m.value, kpi.target, kpi.direction) * HUNDRED)
            if kpi.weight > 0:
                total += kpi.weight * points
                weights += kpi.weight
        scored.append(
            Scored(
                kpi.code,
                m.value,
                kpi.target,
                kpi.weight,
                kpi.direction,
                kpi.unit,
                is_met,
                points,
                m.sample_size,
            )
        )
    overall = _round(total / weights) if weights else None
    return scored, overall, grade(overall)


# -- the handoff flow ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlowCell:
    count: int
    returned: int
    accepted: int
    median_minutes_to_accept: Decimal | None

    @property
    def bounce_rate(self) -> Decimal | None:
        return _ratio(self.returned, self.count)


def handoff_flow(*, start: datetime, end: datetime) -> dict[tuple[int | None, int], FlowCell]:
    """From-department × to-department (None: intake) for handoffs requested in [start, end): how many,
    how many the receiving side returned, and the median business minutes to accept. Two queries."""
    window = Window(start, end, end)
    pairs = ("from_department_id", "to_department_id")
    rows = (
        received_handoffs(window)
        .values(*pairs)
        .annotate(
            count=Count("pk"),
            returned=Count("pk", filter=Q(status=Handoff.Status.RETURNED)),
            accepted=Count("seconds_to_accept"),
        )
        .order_by()
    )
    medians = percentiles(received_handoffs(window), pairs, "seconds_to_accept", (50,))
    cells = {}
    for row in rows:
        key = (row["from_department_id"], row["to_department_id"])
        found = medians.get(key)
        cells[key] = FlowCell(
            count=row["count"],
            returned=row["returned"],
            accepted=row["accepted"],
            median_minutes_to_accept=_seconds_to_minutes(found[50]) if found else None,
        )
    return cells
