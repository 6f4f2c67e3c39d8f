"""Reads of the evaluations app, always within the caller's scope (evaluations.policy), with what
their pages need joined or prefetched so that a page costs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from core.errors import InvalidInput, NotFound
from departments.models import Department
from evaluations import kpis, policy
from evaluations.models import (
    CustomerFeedback,
    Evaluation,
    EvaluationScore,
    Inspection,
    InspectionScore,
    Kpi,
    Scorecard,
    ScorecardCriterion,
)
from evaluations.periods import TZ, Period, period_containing, recent_periods, today

MAX_FLOW_DAYS = 400


# -- evaluations ------------------------------------------------------------------------------------
def evaluation_list(*, user) -> QuerySet[Evaluation]:
    return (
        policy.visible_evaluations(user)
        .select_related("department")
        .prefetch_related(Prefetch("scores", queryset=EvaluationScore.objects.order_by("pk")))
    )


def evaluation_get(*, user, pk: int) -> Evaluation:
    evaluation = evaluation_list(user=user).filter(pk=pk).first()
    if evaluation is None:
        raise NotFound(f"No evaluation {pk} in your departments.", code="not_found")
    return evaluation


def kpis_by_code() -> dict[str, Kpi]:
    return {k.code: k for k in Kpi.objects.all()}


def kpi_definitions() -> list[Kpi]:
    """The active KPIs in their scorecard order (one query)."""
    return list(Kpi.objects.filter(is_active=True).order_by("order", "code"))


def scorecard_departments(*, user) -> QuerySet[Department]:
    ids = policy.scorecard_department_ids(user)
    departments = Department.objects.filter(is_active=True).order_by("code")
    return departments if ids is None else departments.filter(pk__in=ids)


@dataclass
class TrendPoint:
    period: Period
    score: EvaluationScore | None


@dataclass
class Trend:
    code: str
    kpi: Kpi | None
    points: list[TrendPoint]

    @property
    def figure(self) -> EvaluationScore | None:
        """The score of the page's period (the last point): never a figure of another period."""
        return self.points[-1].score if self.points else None


@dataclass(frozen=True)
class PeriodOption:
    """One period the scorecard can show: closed, or the one in progress (labelled as such)."""

    period: Period
    in_progress: bool
    evaluated: bool

    @property
    def value(self) -> str:
        return self.period.start.isoformat()


@dataclass
class ScorecardPage:
    """One department's scorecard for one period: the evaluation of that period (`evaluation`), each
    KPI's figure of that same period (`Trend.figure`) and the trend of the periods up to it."""

    department: Department
    kind: str
    period: Period | None
    in_progress: bool
    options: list[PeriodOption]
    periods: list[Period]
    evaluations: dict[date, Evaluation]
    trends: list[Trend] = field(default_factory=list)

    @property
    def evaluation(self) -> Evaluation | None:
        return self.evaluations.get(self.period.start) if self.period else None


def scorecard_period(
    *, kind: str, evaluated: set[date], requested: date | None, day: date
) -> tuple[Period | None, bool]:
    """Which period a scorecard shows, and whether it is still in progress: the one asked for when it
    starts a period of this kind and has begun; otherwise the last closed period with an evaluation (a
    lead judges a finished month, not the first days of the next), else the one in progress."""
    current = period_containing(kind, day)
    if requested is not None and requested <= current.start:
        period = period_containing(kind, requested)
        if period.start == requested:
            return period, period == current
    closed = sorted(start for start in evaluated if start < current.start)
    if closed:
        return Period(kind, closed[-1]), False
    return current, True


def department_scorecard(
    *,
    user,
    department: Department,
    kind: str,
    period_start: date | None = None,
    count: int = 12,
    until: date | None = None,
) -> ScorecardPage:
    """The department's scorecard for one period with the `count` periods up to it as one trend per
    KPI (3 queries). `until` is today; `period_start` picks the period (default: scorecard_period)."""
    if not policy.sees_scorecard(user, department.pk):
        raise NotFound("No such department in your scope.", code="not_found")
    day = until or today()
    window = recent_periods(kind, count, until=day)
    earliest = window[0].start
    if period_start is not None and period_start < earliest:
        earliest = recent_periods(kind, count, until=period_start)[0].start
    evaluations = {
        e.period_start: e
        for e in evaluation_list(user=user).filter(
            department=department, kind=kind, period_start__gte=earliest, period_start__lte=window[-1].start
        )
    }
    period, in_progress = scorecard_period(
        kind=kind, evaluated=set(evaluations), requested=period_start, day=day
    )
    periods = recent_periods(kind, count, until=period.start) if period else window
    current = window[-1]
    options = [
        PeriodOption(p, in_progress=p == current, evaluated=p.start in evaluations)
        for p in reversed(window)
        if p.start in evaluations or p == current
    ]
    if period is not None and all(o.period != period for o in options):
        options.append(PeriodOption(period, in_progress=in_progress, evaluated=period.start in evaluations))
    catalogue = kpis_by_code()
    codes: list[str] = [k.code for k in sorted(catalogue.values(), key=lambda k: (k.order, k.code))]
    for e in evaluations.values():
        codes += [s.kpi_code for s in e.scores.all() if s.kpi_code not in codes]
    page = ScorecardPage(
        department=department,
        kind=kind,
        period=period,
        in_progress=in_progress,
        options=options,
        periods=periods,
        evaluations=evaluations,
    )
    for code in codes:
        points = []
        for p in periods:
            e = evaluations.get(p.start)
            found = next((s for s in e.scores.all() if s.kpi_code == code), None) if e else None
            points.append(TrendPoint(p, found))
        kpi = catalogue.get(code)
        if any(pt.score is not None for pt in points) or (kpi is not None and kpi.is_active):
            page.trends.append(Trend(code, kpi, points))
    return page


# -- the handoff flow ------------------------------------------------------------------------------
@dataclass
class FlowMatrix:
    start: date
    end: date
    sources: list[Department | None]
    targets: list[Department]
    cells: dict[tuple[int | None, int], kpis.FlowCell]

    def cell(self, source: Department | None, target: Department) -> kpis.FlowCell | None:
        return self.cells.get((source.pk if source else None, target.pk))

    @property
    def max_count(self) -> int:
        return max((c.count for c in self.cells.values()), default=0)

    @property
    def max_median(self) -> Decimal:
        medians = [c.median_minutes_to_accept for c in self.cells.values() if c.median_minutes_to_accept]
        return max(medians, default=Decimal(0))


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in Asia/Shanghai: `end` is the last day included."""
    if end < start:
        raise InvalidInput(
            "The end lies before the start.", code="invalid", extra={"fields": {"end": ["Not before start."]}}
        )
    if (end - start).days >= MAX_FLOW_DAYS:
        message = f"At most {MAX_FLOW_DAYS} days at a time."
        raise InvalidInput(message, code="range_too_long", extra={"fields": {"end": [message]}})
    return datetime.combine(start, time.min, tzinfo=TZ), datetime.combine(
        end + timedelta(days=1), time.min, tzinfo=TZ
    )


def handoff_flow(*, user, start: date, end: date) -> FlowMatrix:
    """The from × to matrix of handoffs requested between two days (both included); outside the
    quality office only the pairs that touch one of the user's scorecard departments."""
    since, until = day_bounds(start, end)
    cells = kpis.handoff_flow(start=since, end=until)
    ids = policy.scorecard_department_ids(user)
    if ids is not None:
        cells = {pair: cell for pair, cell in cells.items() if pair[0] in ids or pair[1] in ids}
    involved = {d for pair in cells for d in pair if d is not None}
    departments = {d.pk: d for d in Department.objects.filter(pk__in=involved).order_by("code")}
    sources_ids = sorted({s for s, _ in cells if s is not None}, key=lambda pk: departments[pk].code)
    targets = sorted({t for _, t in cells}, key=lambda pk: departments[pk].code)
    sources: list[Department | None] = [departments[pk] for pk in sources_ids]
    if any(s is None for s, _ in cells):
        sources.insert(0, None)
    return FlowMatrix(start, end, sources, [departments[pk] for pk in targets], cells)


# -- inspections and feedback --------------------------------------------------------------------------
def inspection_list(*, user) -> QuerySet[Inspection]:
    scores = InspectionScore.objects.select_related("criterion").order_by("criterion__order", "pk")
    return (
        policy.visible_inspections(user)
        .select_related("case", "department", "scorecard", "inspector")
        .prefetch_related(Prefetch("scores", queryset=scores))
    )


def inspection_get(*, user, pk: int) -> Inspection:
    """One inspection with the case it inspects and that case's process (its page shows the case)."""
    inspection = inspection_list(user=user).select_related("case__process").filter(pk=pk).first()
    if inspection is None:
        raise NotFound(f"No inspection {pk} in your scope.", code="not_found")
    return inspection


def scorecard_list() -> QuerySet[Scorecard]:
    return Scorecard.objects.prefetch_related(
        Prefetch("criteria", queryset=ScorecardCriterion.objects.order_by("order", "pk"))
    )


def feedback_list(*, user) -> QuerySet[CustomerFeedback]:
    return policy.visible_feedback(user).select_related("case")
