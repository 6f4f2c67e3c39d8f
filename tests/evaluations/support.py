"""A small world for KPI tests: two departments on round-the-clock calendars (so business time is
wall-clock time and every expected value can be worked out by hand), one process between them, and
a `World` that builds history through the process services with past times."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from evaluations import services
from evaluations.models import EvaluationScore, Kpi
from processes import services as process_services
from processes.models import Case, Handoff, ServiceProcess, Stage, StageTarget, Transition
from tests.factories import CalendarFactory, DepartmentFactory, UserFactory
from tests.support import SHANGHAI, local  # noqa: F401

NOVEMBER = date(2026, 11, 1)
RESPONSE_MIN, RESOLUTION_MIN = 10, 60


# Monday 2 November 2026, 10:00 in Shanghai; "now" for the computations is well after November.
T0 = local(2026, 11, 2, 10)
AFTER = local(2026, 12, 15, 12)


class World:
    """`front` takes cases in and calls back; `back` investigates and resolves."""

    def __init__(self, prefix: str = "W"):
        calendar = CalendarFactory(code=f"{prefix.lower()}-24x7", always_open=True)
        self.front = DepartmentFactory(code=f"{prefix}_FRONT", calendar=calendar)
        self.back = DepartmentFactory(code=f"{prefix}_BACK", calendar=calendar)
        self.actor = UserFactory(username=f"{prefix.lower()}-admin", is_superuser=True)
        self.process = ServiceProcess.objects.create(
            code=f"{prefix}-PROC", name=f"{prefix} process", category="complaint", reference_prefix=prefix[:6]
        )
        stages = {}
        for order, (code, dept, final, resolves) in enumerate(
            [
                ("INTAKE", self.front, False, True),
                ("WORK", self.back, False, True),
                ("CALLBACK", self.front, True, False),
            ]
        ):
            stages[code] = Stage.objects.create(
                process=self.process,
                code=code,
                name=code,
                department=dept,
                order=order,
                is_initial=code == "INTAKE",
                is_final=final,
                can_resolve=resolves,
            )
            StageTarget.objects.bulk_create(
                StageTarget(
                    stage=stages[code],
                    priority=p,
                    response_minutes=RESPONSE_MIN,
                    resolution_minutes=RESOLUTION_MIN,
                )
                for p in ("urgent", "high", "normal", "low")
            )
        for source, target in [("INTAKE", "WORK"), ("WORK", "CALLBACK"), ("INTAKE", "CALLBACK")]:
            Transition.objects.create(
                process=self.process, from_stage=stages[source], to_stage=stages[target]
            )

    # -- single steps, each at an explicit time ---------------------------------------------------
    def open(self, at: datetime, **customer) -> Case:
        case, _ = process_services.case_open(
            process=self.process, title="t", channel=Case.Channel.PHONE, actor=self.actor, at=at, **customer
        )
        return case

    def handoff(self, case: Case) -> Handoff:
        return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)

    def accept(self, case: Case, at: datetime) -> Handoff:
        return process_services.handoff_accept(handoff=self.handoff(case), actor=self.actor, at=at)

    def forward(self, case: Case, at: datetime, stage: str = "WORK") -> Handoff:
        return process_services.case_forward(case=case, to_stage=stage, actor=self.actor, at=at)

    def give_back(self, case: Case, at: datetime) -> Handoff:
        return process_services.handoff_return(
            handoff=self.handoff(case), actor=self.actor, reason="not ours", at=at
        )

    def resolve(self, case: Case, at: datetime) -> Case:
        return process_services.case_resolve(
            case=case, actor=self.actor, resolution="done", recovery_measure=Case.Recovery.APOLOGY, at=at
        )

    def close(self, case: Case, at: datetime) -> Case:
        self.accept(case, at)
        return process_services.case_close(case=case, actor=self.actor, at=at + timedelta(minutes=1))

    def reopen(self, case: Case, at: datetime) -> Case:
        return process_services.case_reopen(case=case, actor=self.actor, reason="again", at=at)

    def cancel(self, case: Case, at: datetime) -> Case:
        return process_services.case_cancel(case=case, actor=self.actor, reason="withdrawn", at=at)

    # -- whole scenes ------------------------------------------------------------------------------
    def at_back(self, at: datetime, *, accept_after: int | None = 1) -> Case:
        """Opened at `at`, accepted and forwarded by the front a minute later each; the back accepts
        `accept_after` minutes after the forward (None: still pending)."""
        case = self.open(at)
        self.accept(case, at + timedelta(minutes=1))
        self.forward(case, at + timedelta(minutes=2))
        if accept_after is not None:
            self.accept(case, at + timedelta(minutes=2 + accept_after))
        return case

    def resolved_by_back(self, at: datetime) -> Case:
        """Resolved by the back 10 minutes after `at`; the call-back to the front is pending."""
        case = self.at_back(at)
        self.resolve(case, at + timedelta(minutes=10))
        return case

    def feedback(self, case: Case, *, survey: str, csat=None, nps=None, at: datetime | None = None):
        feedback, _ = services.feedback_record(
            case=case,
            actor=self.actor,
            survey_id=survey,
            csat=csat,
            nps=nps,
            responded_at=at or T0 + timedelta(days=3),
            at=AFTER,
        )
        return feedback


def compute(kind: str = "monthly", start: date = NOVEMBER, now: datetime = AFTER):
    return services.evaluation_compute_period(kind=kind, start=start, now=now)


def scores_of(department, kind: str = "monthly", start: date = NOVEMBER) -> dict[str, EvaluationScore]:
    rows = EvaluationScore.objects.filter(
        evaluation__department=department, evaluation__kind=kind, evaluation__period_start=start
    )
    return {s.kpi_code: s for s in rows}


def value(department, code: str, **kwargs) -> tuple[Decimal | None, int]:
    score = scores_of(department, **kwargs)[code]
    return score.value, score.sample_size


def only_kpis(*codes: str, **targets) -> None:
    """Make the listed KPIs the only active ones (weights as given, default 1)."""
    Kpi.objects.exclude(code__in=codes).update(is_active=False)
    for code in codes:
        Kpi.objects.filter(code=code).update(is_active=True, weight=Decimal(str(targets.get(code, 1))))


class DemoStory:
    """Complaints of the demo organisation: intake at the call center, investigation and resolution at
    the card center, call-back and closure at the call center; each step a few minutes apart."""

    def __init__(self, org, user, start: datetime = T0):
        self.org, self.user, self.now = org, user, start

    def tick(self, minutes: int = 10) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now

    def _open_handoff(self, case: Case) -> Handoff:
        return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)

    def at_card_center(self) -> Case:
        case, _ = process_services.case_open(
            process=self.org.processes["COMPLAINT"],
            title="信用卡年费争议",
            channel=Case.Channel.PHONE,
            actor=self.user("call_center_agent"),
            at=self.tick(),
        )
        process_services.handoff_accept(
            handoff=self._open_handoff(case), actor=self.user("call_center_agent"), at=self.tick()
        )
        process_services.case_forward(
            case=case, to_stage="INVESTIGATE_CARD", actor=self.user("call_center_agent"), at=self.tick()
        )
        process_services.handoff_accept(
            handoff=self._open_handoff(case), actor=self.user("card_center_agent"), at=self.tick()
        )
        return case

    def resolved(self) -> Case:
        case = self.at_card_center()
        process_services.case_resolve(
            case=case,
            actor=self.user("card_center_agent"),
            resolution="年费已减免",
            recovery_measure=Case.Recovery.FEE_WAIVER,
            at=self.tick(),
        )
        return Case.objects.get(pk=case.pk)

    def closed(self) -> Case:
        case = self.resolved()
        process_services.handoff_accept(
            handoff=self._open_handoff(case), actor=self.user("call_center_agent"), at=self.tick()
        )
        process_services.case_close(case=case, actor=self.user("call_center_agent"), at=self.tick())
        return Case.objects.get(pk=case.pk)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """An error answer: JSON with a stable code and a human detail (and `fields` on a 400)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["detail"], str) and body["detail"]
    if status == 400:
        assert isinstance(body["fields"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body
