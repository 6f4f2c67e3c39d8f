"""Demo improvement reviews for `seed_demo`: a monthly cycle (the 1st at 08:00, every department,
leads and the quality office), the reviews of the last three closed months run at their due times,
and actions in every state: open (one overdue), in progress, done, verified, not effective.

Everything goes through evaluations.reviews.services with past times, e-mails muted (they would tell people
about the past). Idempotent: a month reviewed before is left as it is. The two checked actions pick
a department and KPI from the data, so that the next review really finds one effective and one not.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput
from evaluations import kpis, services
from evaluations.models import Direction, EvaluationScore, Kpi, Scorecard
from evaluations.periods import TZ, Period, PeriodKind, period_containing
from evaluations.reviews import services as reviews
from evaluations.reviews.models import ImprovementAction, ImprovementReview, ReviewCycle
from processes.notifications import muted

CYCLE_NAME = "月度服务质量改进评审"
MONTHS = 3
Status = ImprovementAction.Status
Kind = ImprovementAction.Kind
# The KPIs an action may target (volume measures load, not quality).
KPIS = tuple(code for code in Kpi.Code.values if code != Kpi.Code.VOLUME)
MINUTES = (
    "出席: 各部门负责人、服务质量管理部。\n"
    "1. 通报本期考核结果与未达标指标。\n"
    "2. 讨论跨部门交接退回率偏高的环节, 明确整改措施与责任人。\n"
    "3. 上期措施验证结果已记录。"
)


def ensure_cycle(*, officer, now: datetime) -> ReviewCycle:
    cycle = ReviewCycle.objects.filter(name=CYCLE_NAME).first()
    if cycle is not None:
        return cycle
    scorecard = Scorecard.objects.filter(code="SERVICE_QA", is_active=True).first()
    return reviews.review_cycle_create(
        actor=officer,
        name=CYCLE_NAME,
        kind=PeriodKind.MONTHLY,
        run_day=1,
        run_time=time(8),
        all_departments=True,
        notify_leads=True,
        notify_quality_office=True,
        chair=officer,
        inspection_scorecard=scorecard,
        inspection_sample_size=2 if scorecard is not None else 0,
        now=now,
    )


def _user(username: str):
    return get_user_model().objects.filter(username=username).first()


def _values(period: Period) -> dict[tuple[str, str], tuple[Decimal, str]]:
    rows = EvaluationScore.objects.filter(
        evaluation__kind=period.kind,
        evaluation__period_start=period.start,
        kpi_code__in=KPIS,
        value__isnull=False,
    ).values_list("evaluation__department__code", "kpi_code", "value", "direction")
    return {(code, kpi): (value, direction) for code, kpi, value, direction in rows}


CEILING = {
    "csat_avg": Decimal(5),
    "nps": Decimal(100),
    "qa_score": Decimal(100),
    "response_sla_rate": Decimal(100),
    "resolution_sla_rate": Decimal(100),
}


def _better(kpi: str, value: Decimal, direction: str) -> Decimal:
    """A goal one notch better than `value` in the KPI's direction, within the KPI's range."""
    notch = Decimal("0.2") if abs(value) < 10 else Decimal("2")
    if direction == Direction.HIGHER:
        return min(CEILING.get(kpi, value + notch), value + notch)
    return max(Decimal(0), value - notch)


def _checked_pairs(before: Period, after: Period, at_after: datetime):
    """(department, KPI, baseline, goal) for one action that will prove effective at the review of
    `after` and one that will not, from the data of both months. `after` is computed at the moment
    its review will run, so that the review finds exactly these values."""
    services.evaluation_compute_period(kind=after.kind, start=after.start, now=at_after)
    old, new = _values(before), _values(after)
    effective = not_effective = None
    for key in sorted(old.keys() & new.keys()):
        (baseline, direction), (value, _) = old[key], new[key]
        if effective is None and value != baseline and kpis.met(value, baseline, direction):
            effective = (*key, baseline, value)  # improved: the goal is what it reached
        elif not_effective is None and key[0] != (effective or ("",))[0]:
            goal = _better(key[1], baseline if kpis.met(baseline, value, direction) else value, direction)
            if goal != baseline and kpis.met(goal, baseline, direction):
                not_effective = (*key, baseline, goal)
    return effective, not_effective


def _create(
    review, at, department_code, owner, title, kind, due, *, kpi="", goal=None, baseline=None, officer
):
    department = review.departments.filter(code=department_code).first()
    if department is None:
        return None
    return reviews.action_create(
        review=review,
        department=department,
        owner=_user(owner) or officer,
        title=title,
        kind=kind,
        kpi_code=kpi,
        goal=goal,
        baseline=baseline,
        due_date=due,
        actor=officer,
        at=at,
    )


def _move(action, statuses, start: datetime, now: datetime, actor) -> None:
    if action is None:
        return
    for i, status in enumerate(statuses):
        at = min(start + timedelta(days=3 * i + 1), now - timedelta(minutes=5))
        reviews.action_change_status(action=action, status=status, actor=actor, at=at)


def seed_reviews(*, now: datetime | None = None, stdout=None) -> dict[str, int]:
    now = now or timezone.now()
    officer = _user("quality_officer")
    if officer is None:
        return {"reviews": 0, "actions": 0}
    cycle = ensure_cycle(officer=officer, now=now)
    current = period_containing(PeriodKind.MONTHLY, now.astimezone(TZ).date())
    months = [current]
    for _ in range(MONTHS):
        months.insert(0, months[0].previous())
    months = [p for p in months[:-1] if reviews.run_due_at(cycle, p) <= now]
    created_reviews = created_actions = 0
    with muted():
        for index, period in enumerate(months):
            at = reviews.run_due_at(cycle, period)
            following = months[index + 1] if index + 1 < len(months) else None
            with transaction.atomic():
                review, created = reviews.review_cycle_run(cycle=cycle, period_start=period.start, at=at)
                if not created:
                    continue
                created_reviews += 1
                created_actions += _plan(review, index, at, following, cycle, officer, now)
                if following is not None:
                    reviews.review_close(
                        review=review, actor=officer, minutes=MINUTES, at=at + timedelta(hours=3)
                    )
    if stdout is not None:
        stdout.write(f"  reviews: {created_reviews} run, {created_actions} improvement actions")
    return {"reviews": created_reviews, "actions": created_actions}


def _plan(
    review: ImprovementReview, index: int, at: datetime, following: Period | None, cycle, officer, now
) -> int:
    """The actions decided in the demo's review number `index` (oldest first), moved along in time."""
    meeting = max(at, min(at + timedelta(hours=2), now - timedelta(minutes=30)))
    day = meeting.astimezone(TZ).date()
    made = []
    if index == 0 and following is not None:
        effective, not_effective = _checked_pairs(
            review.period, following, reviews.run_due_at(cycle, following)
        )
        for pair, title in ((effective, "优化交接规范, 降低退回"), (not_effective, "专项培训, 提升服务指标")):
            if pair is None:
                continue
            code, kpi, baseline, goal = pair
            action = _create(
                review,
                meeting,
                code,
                f"{code.lower()}_lead",
                title,
                Kind.PROCESS_CHANGE if kpi == "bounce_rate" else Kind.TRAINING,
                day + timedelta(days=14),
                kpi=kpi,
                goal=goal,
                baseline=baseline,
                officer=officer,
            )
            _move(action, [Status.IN_PROGRESS, Status.DONE], meeting, now, officer)
            made.append(action)
        overdue = _create(
            review,
            meeting,
            "RISK",
            "risk_lead",
            "风险复核环节限时签收",
            Kind.PROCESS_CHANGE,
            day + timedelta(days=20),
            officer=officer,
        )
        made.append(overdue)
    elif index == 1:
        target = Kpi.objects.filter(code="csat_avg").values_list("target", flat=True).first() or Decimal(
            "4.5"
        )
        try:
            action = _create(
                review,
                meeting,
                "BRANCH",
                "branch_lead",
                "网点服务礼仪培训",
                Kind.TRAINING,
                day + timedelta(days=45),
                kpi="csat_avg",
                goal=target,
                officer=officer,
            )
        except InvalidInput:
            # The branch's CSAT of that month already meets the target (the demo's feedback is
            # random): the service refuses a goal that is no improvement, and the demo plans nothing.
            action = None
        if action is not None:
            _move(action, [Status.IN_PROGRESS], meeting, now, officer)
            made.append(action)
        policy_action = _create(
            review,
            meeting,
            "COMPLIANCE",
            "compliance_lead",
            "修订投诉升级制度",
            Kind.POLICY,
            day + timedelta(days=21),
            officer=officer,
        )
        _move(policy_action, [Status.IN_PROGRESS, Status.DONE, Status.VERIFIED], meeting, now, officer)
        made.append(policy_action)
    else:
        due = max(day, now.astimezone(TZ).date()) + timedelta(days=21)
        made.append(
            _create(
                review,
                meeting,
                "IT",
                "it_lead",
                "工单系统增加转办前置校验",
                Kind.SYSTEM_CHANGE,
                due,
                kpi="reopen_rate",
                goal=Decimal("2"),
                baseline=Decimal("3.5"),
                officer=officer,
            )
        )
        staffing = _create(
            review,
            meeting,
            "CALL_CENTER",
            "call_center_lead",
            "高峰时段增配坐席",
            Kind.STAFFING,
            due,
            officer=officer,
        )
        _move(staffing, [Status.IN_PROGRESS, Status.DONE], meeting, now, officer)
        made.append(staffing)
    return sum(1 for a in made if a is not None)
