"""A small world for the review tests: a front and a back department on a round-the-clock calendar
(business time is wall time, so every expected value can be worked out by hand), a third department
the cycles leave out, leads, agents, a quality officer, and one process front → back → front.

History is built through the process services at explicit Asia/Shanghai times; cycles and actions
through evaluations.reviews, as the admin, the API and the tasks do."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from departments.models import Membership, UserSettings
from departments.roles import QUALITY_OFFICE, STAFF, ensure_role_groups
from evaluations.reviews import services as reviews
from processes import services as process_services
from processes.models import Case, Handoff, ServiceProcess, Stage, StageTarget, Transition
from processes.notifications import muted
from tests.factories import CalendarFactory, DepartmentFactory, MembershipFactory, UserFactory
from tests.support import SHANGHAI

MINUTE = timedelta(minutes=1)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A time in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


class ReviewWorld:
    def __init__(self) -> None:
        groups = ensure_role_groups()
        calendar = CalendarFactory(code="rv-24x7", always_open=True)
        self.front = DepartmentFactory(code="RV_FRONT", name="前台", name_en="Front desk", calendar=calendar)
        self.back = DepartmentFactory(code="RV_BACK", name="后台", name_en="Back office", calendar=calendar)
        self.other = DepartmentFactory(code="RV_OTHER", name="其他", name_en="Other", calendar=calendar)
        self.actor = UserFactory(username="rv_admin", is_superuser=True, email="")
        self.officer = UserFactory(username="rv_officer", first_name="质量")
        self.officer.groups.add(groups[QUALITY_OFFICE])
        self.users = {}
        for department, prefix in ((self.front, "front"), (self.back, "back"), (self.other, "other")):
            for role, suffix in ((Membership.Role.LEAD, "lead"), (Membership.Role.MEMBER, "agent")):
                user = UserFactory(username=f"rv_{prefix}_{suffix}")
                user.groups.add(groups[STAFF])
                MembershipFactory(user=user, department=department, role=role)
                self.users[f"{prefix}_{suffix}"] = user
        self.front_lead, self.back_lead = self.users["front_lead"], self.users["back_lead"]
        self.front_agent, self.back_agent = self.users["front_agent"], self.users["back_agent"]
        self.other_lead = self.users["other_lead"]
        # The back office's lead reads English; everyone else the default, Chinese.
        UserSettings.objects.create(user=self.back_lead, language="en")

        self.process = ServiceProcess.objects.create(
            code="RV-PROC", name="Review process", category="complaint", reference_prefix="RV"
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
                StageTarget(stage=stages[code], priority=p, response_minutes=10, resolution_minutes=60)
                for p in ("urgent", "high", "normal", "low")
            )
        for source, target in [("INTAKE", "WORK"), ("WORK", "CALLBACK"), ("INTAKE", "CALLBACK")]:
            Transition.objects.create(
                process=self.process, from_stage=stages[source], to_stage=stages[target]
            )

    # -- history ----------------------------------------------------------------------------------
    def open(self, at: datetime, **fields) -> Case:
        fields.setdefault("customer_name", "王小明")
        fields.setdefault("customer_phone", "13912345678")
        with muted():
            case, _ = process_services.case_open(
                process=self.process, title="t", channel=Case.Channel.PHONE, actor=self.actor, at=at, **fields
            )
        return case

    def handoff(self, case: Case) -> Handoff:
        return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)

    def to_back(self, at: datetime, *, returned: bool = False, accept_after: int = 1) -> Case:
        """Opened at `at`, taken by the front and forwarded to the back a minute later each; the back
        returns it (a bounce) or accepts it `accept_after` minutes later."""
        case = self.open(at)
        later = at + (2 + accept_after) * MINUTE
        with muted():  # history: nobody is e-mailed about it
            process_services.handoff_accept(handoff=self.handoff(case), actor=self.actor, at=at + MINUTE)
            process_services.case_forward(case=case, to_stage="WORK", actor=self.actor, at=at + 2 * MINUTE)
            if returned:
                process_services.handoff_return(
                    handoff=self.handoff(case), actor=self.actor, reason="not ours", at=later
                )
            else:
                process_services.handoff_accept(handoff=self.handoff(case), actor=self.actor, at=later)
        return case

    def bounces(self, at: datetime, *, total: int, returned: int) -> None:
        """`total` cases sent to the back from `at` on (10 minutes apart), `returned` of them bounced."""
        for i in range(total):
            self.to_back(at + i * 10 * MINUTE, returned=i < returned)

    # -- cycles -----------------------------------------------------------------------------------
    def cycle(
        self, *, kind: str = "monthly", now: datetime, run_day: int = 1, run_time: time = time(8), **fields
    ):
        fields.setdefault("name", f"{kind} review")
        fields.setdefault("all_departments", False)
        if not fields["all_departments"]:
            fields.setdefault("departments", [self.front, self.back])
        return reviews.review_cycle_create(
            actor=self.officer, kind=kind, run_day=run_day, run_time=run_time, now=now, **fields
        )
