"""Months of realistic history, created through the services with past times.

Every case follows the path a real one would: intake at the call center, investigation in the owning
department, sometimes a bounce, a pause waiting on the customer, a risk or compliance review, a
resolution with service recovery (large compensations approved by compliance), the call-back and
closure, and now and then a reopening. Delays are drawn around each stage's targets, so about a fifth
of the handoffs breach. Cases whose next step would lie in the future stay open where they are.
"""

from __future__ import annotations

import contextlib
import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from processes import notifications
from processes import services as svc
from processes.clock import ScheduleCache, shared_schedules
from processes.models import Case, Handoff, PauseSegment, ServiceProcess, Transition

SOURCE = "demo"
MIX = [("COMPLAINT", 0.5), ("CARD_DISPUTE", 0.2), ("APP_INCIDENT", 0.2), ("REGULATOR_COMPLAINT", 0.1)]
CHANNELS = ["phone", "phone", "phone", "mobile_app", "online_banking", "wechat", "branch", "letter"]
PRIORITIES = ["urgent", "high", "high", "normal", "normal", "normal", "normal", "low"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "洋",
    "艳",
    "小明",
    "建华",
    "秀英",
    "志强",
    "海燕",
    "春梅",
]
TITLES = {
    "COMPLAINT": [
        "信用卡年费争议",
        "贷款利率调整未通知",
        "网点排队时间过长",
        "理财产品风险未充分揭示",
        "账户被误冻结",
    ],
    "CARD_DISPUTE": ["境外交易未授权", "重复扣款", "商户退款未到账", "分期手续费异议"],
    "APP_INCIDENT": ["手机银行转账失败", "人脸识别无法通过", "APP 登录闪退", "短信验证码收不到"],
    "REGULATOR_COMPLAINT": ["监管转办: 催收方式不当", "监管转办: 销售误导", "监管转办: 征信异议"],
}


class _Clock:
    """Moves a case's own time forward in a department's business time."""

    def __init__(self, cache: ScheduleCache, rng: random.Random):
        self.cache, self.rng = cache, rng

    def after(self, handoff: Handoff, target_seconds: int, *, late: float = 0.2) -> datetime:
        """A moment after the handoff's request: usually within target, sometimes well beyond it."""
        factor = self.rng.uniform(1.05, 2.5) if self.rng.random() < late else self.rng.uniform(0.1, 0.9)
        schedule = self.cache.get(handoff.to_department.calendar_id)
        return schedule.add(handoff.requested_at, timedelta(seconds=int(target_seconds * factor)))


def _users() -> dict[str, object]:
    return {u.username: u for u in get_user_model().objects.filter(username__regex=r"_(agent|lead)$")}


class _Life:
    def __init__(self, rng: random.Random, users: dict, cache: ScheduleCache, now: datetime):
        self.rng, self.users, self.now = rng, users, now
        self.clock = _Clock(cache, rng)
        self.routes: dict[int, list[Transition]] = {}
        # The case's open handoff as the last service call left it (they return it): no reads
        # between the steps of a life.
        self.current: Handoff | None = None

    def track(self, result: Case | Handoff) -> Case:
        case = result.case if isinstance(result, Handoff) else result
        handoffs = getattr(case, "open_handoffs", None)
        if handoffs is not None:
            self.current = handoffs[0] if handoffs else None
        return case

    def agent(self, handoff: Handoff):
        return self.users[f"{handoff.to_department.code.lower()}_agent"]

    def open_handoff(self, case: Case) -> Handoff:
        if self.current is not None and self.current.case_id == case.pk:
            return self.current
        return Handoff.objects.select_related("to_department", "to_stage").get(
            case=case, status__in=Handoff.OPEN_STATUSES
        )

    def step_time(self, handoff: Handoff, target: int, floor: datetime, late: float = 0.2) -> datetime | None:
        at = max(self.clock.after(handoff, target, late=late), floor + timedelta(seconds=30))
        return at if at < self.now else None

    def accept(self, case: Case, floor: datetime) -> tuple[Handoff, datetime] | None:
        handoff = self.open_handoff(case)
        at = self.step_time(handoff, handoff.response_target_seconds, floor)
        if at is None:
            return None
        handoff = svc.handoff_accept(handoff=handoff, actor=self.agent(handoff), at=at)
        self.track(handoff)
        return handoff, at

    def work_time(self, handoff: Handoff, floor: datetime) -> datetime | None:
        return self.step_time(
            handoff, handoff.resolution_target_seconds - handoff.response_target_seconds, floor
        )

    def forward_options(self, handoff: Handoff, *, rework: bool | None = None) -> list[str]:
        routes = self.routes.get(handoff.to_stage_id)
        if routes is None:
            routes = list(Transition.objects.filter(from_stage=handoff.to_stage).select_related("to_stage"))
            self.routes[handoff.to_stage_id] = routes
        return [
            t.to_stage.code
            for t in routes
            if (rework is None or t.is_return == rework) and not t.to_stage.is_final
        ]

    def run(self, process: ServiceProcess, opened_at: datetime, index: int) -> None:
        rng = self.rng
        title = rng.choice(TITLES[process.code])
        intake_agent = "compliance_agent" if process.code == "REGULATOR_COMPLAINT" else "call_center_agent"
        case, _ = svc.case_open(
            process=process,
            title=title,
            channel="regulator" if process.code == "REGULATOR_COMPLAINT" else rng.choice(CHANNELS),
            priority=rng.choice(PRIORITIES),
            actor=self.users[intake_agent],
            customer_id=f"C{rng.randrange(10**9):09d}",
            customer_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            customer_phone=f"13{rng.randrange(10**9):09d}",
            description=f"{title}。客户来电反映相关问题, 要求尽快处理并给予答复。",
            source=SOURCE,
            external_id=f"demo-{index:07d}",
            at=opened_at,
        )
        self.track(case)
        t = opened_at
        accepted = self.accept(case, t)
        if accepted is None:
            return
        handoff, t = accepted
        if handoff.to_stage.can_resolve and rng.random() < 0.15:
            self.resolve_and_close(case, handoff, t)
            return
        options = self.forward_options(handoff, rework=False)
        if not options:
            return
        t = self.forward(case, handoff, rng.choice(options), t)
        if t is None:
            return
        # A bounce: the receiving department says it is not theirs.
        if rng.random() < 0.12:
            handoff = self.open_handoff(case)
            at = self.step_time(handoff, handoff.response_target_seconds, t)
            if at is None:
                return
            self.track(
                svc.handoff_return(
                    handoff=handoff, actor=self.agent(handoff), reason="非本部门职责, 请重新分派", at=at
                )
            )
            accepted = self.accept(case, at)
            if accepted is None:
                return
            handoff, t = accepted
            t = self.forward(case, handoff, rng.choice(options), t)
            if t is None:
                return
        accepted = self.accept(case, t)
        if accepted is None:
            return
        handoff, t = accepted
        if case.regulatory_deadline and rng.random() < 0.1:
            lead = self.users[f"{handoff.to_department.code.lower()}_lead"]
            svc.case_extend_deadline(case=case, actor=lead, reason="案情复杂, 需调取更多交易记录", at=t)
        if rng.random() < 0.2:
            svc.handoff_pause(
                handoff=handoff,
                actor=self.agent(handoff),
                cause=PauseSegment.Cause.CUSTOMER,
                note="等待客户补充材料",
                at=t + timedelta(minutes=20),
            )
            resume_at = self.clock.cache.get(handoff.to_department.calendar_id).add(
                t + timedelta(minutes=20), timedelta(hours=rng.uniform(2, 16))
            )
            if resume_at >= self.now:
                return
            svc.handoff_resume(handoff=handoff, actor=self.agent(handoff), at=resume_at)
            t = resume_at
        reviews = [s for s in self.forward_options(handoff, rework=False) if s.endswith("REVIEW")]
        if reviews and rng.random() < 0.25:
            back = handoff.to_stage.code
            t = self.forward(case, handoff, rng.choice(reviews), t)
            if t is None:
                return
            accepted = self.accept(case, t)
            if accepted is None:
                return
            review, t = accepted
            t = self.forward(case, review, back, t)
            if t is None:
                return
            accepted = self.accept(case, t)
            if accepted is None:
                return
            handoff, t = accepted
        if handoff.to_stage.can_resolve:
            self.resolve_and_close(case, handoff, t)

    def forward(self, case: Case, handoff: Handoff, stage: str, floor: datetime) -> datetime | None:
        at = self.work_time(handoff, floor)
        if at is None:
            return None
        self.track(
            svc.case_forward(case=case, to_stage=stage, actor=self.agent(handoff), note="请协助处理", at=at)
        )
        return at

    def resolve_and_close(self, case: Case, handoff: Handoff, floor: datetime) -> None:
        rng = self.rng
        at = self.work_time(handoff, floor)
        if at is None:
            return
        measure = rng.choices(
            ["apology", "explanation", "fee_waiver", "compensation", "none"], [40, 25, 20, 12, 3]
        )[0]
        amount = None
        if measure == "compensation":
            amount = Decimal(rng.choice([50, 100, 200, 300, 800, 1500]))
        elif measure == "fee_waiver":
            amount = Decimal(rng.choice([0, 60, 120, 300]))
        case = self.track(
            svc.case_resolve(
                case=case,
                actor=self.agent(handoff),
                resolution="已核实并向客户解释, 采取补救措施",
                recovery_measure=measure,
                compensation_amount=amount,
                at=at,
            )
        )
        if case.compensation_approval == Case.Approval.PENDING:
            approval = self.open_handoff(case)
            decided = self.step_time(approval, approval.response_target_seconds, at)
            if decided is None:
                return
            approve = rng.random() < 0.85
            case = self.track(
                svc.compensation_decide(
                    case=case,
                    actor=self.users["compliance_agent"],
                    approve=approve,
                    note="" if approve else "补偿金额偏高, 请调整",
                    at=decided,
                )
            )
            if not approve:
                accepted = self.accept(case, decided)
                if accepted is None:
                    return
                handoff, at = accepted
                at = at + timedelta(minutes=30)
                if at >= self.now:
                    return
                case = self.track(
                    svc.case_resolve(
                        case=case,
                        actor=self.agent(handoff),
                        resolution="调整补偿方案后与客户达成一致",
                        recovery_measure="compensation",
                        compensation_amount=Decimal("300"),
                        at=at,
                    )
                )
            at = decided
        if case.status != Case.Status.RESOLVED:
            return
        callback = self.current if self.current is not None and self.current.case_id == case.pk else None
        if callback is not None and callback.status == Handoff.Status.PENDING:
            accepted = self.accept(case, at)
            if accepted is None:
                return
            callback, at = accepted
            at = self.work_time(callback, at)
            if at is None:
                return
            svc.case_close(case=case, actor=self.agent(callback), at=at)
        # The customer calls again: a reopening within the window.
        if rng.random() < 0.05 and at + timedelta(days=2) < self.now:
            svc.case_reopen(
                case=case,
                actor=self.users["call_center_agent"],
                reason="客户对处理结果不满意, 再次来电",
                at=at + timedelta(days=rng.uniform(0.5, 2)),
            )


def seed_history(
    *, cases: int, days: int = 180, seed: int = 20261129, progress=None, now: datetime | None = None
) -> int:
    """Create demo cases until `cases` exist from the demo source; returns how many were added."""
    existing = Case.objects.filter(source=SOURCE).count()
    missing = max(0, cases - existing)
    if not missing:
        return 0
    rng = random.Random(seed + existing)
    now = now or timezone.now()
    processes = {p.code: p for p in ServiceProcess.objects.filter(code__in=[code for code, _ in MIX])}
    users = _users()
    life = _Life(rng, users, ScheduleCache(), now)
    start = now - timedelta(days=days)
    # Opening times: more recent months are busier, so the queue is full today.
    moments = sorted(start + timedelta(seconds=(rng.random() ** 0.8) * days * 86400) for _ in range(missing))
    bar = progress(total=missing, unit="case") if progress else None
    with notifications.muted(), shared_schedules():
        for chunk in range(0, missing, 100):
            with transaction.atomic():
                for offset, opened_at in enumerate(moments[chunk : chunk + 100]):
                    code = rng.choices([c for c, _ in MIX], [w for _, w in MIX])[0]
                    # A random walk can ask for a move the rules refuse; the rules win.
                    with contextlib.suppress(ApplicationError):
                        life.run(processes[code], opened_at, existing + chunk + offset)
            if bar:
                bar.update(min(100, missing - chunk))
    if bar:
        bar.close()
    return missing


def last_demo_case_opened() -> datetime | None:
    """When the newest demo case was opened: a demo seeded long ago has every SLA far in the past."""
    return (
        Case.objects.filter(source=SOURCE)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
