"""Fixtures for the process engine: the demo organisation and processes, its users, and a `story`
that builds a case's history through the services, a few minutes apart on a fixed clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction

from departments.models import Department
from processes import services
from processes.models import Case, Handoff, ServiceProcess

from .support import local, open_handoff

# Monday 1 June 2026, 09:30 in Shanghai: a head-office working morning with no holiday in sight.
T0 = local(2026, 6, 1, 9, 30)


@pytest.fixture(scope="module")
def _demo_data(django_db_setup, django_db_blocker):
    """Seed the demo organisation and processes once per module, inside a transaction rolled back when
    the module is done: every test runs in a savepoint within it (pytest-django's `db`), so each still
    starts from the same rows and nothing leaks into other tests. Module scope, not package: the
    transactional tests of test_concurrency.py run after all others and must not find it still open."""
    from departments.demo import seed_organisation
    from processes.demo import seed_processes

    with django_db_blocker.unblock(), transaction.atomic():
        seed_organisation()
        seed_processes()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def org(_demo_data, db):
    """The demo organisation plus its four demo processes, read fresh for each test
    (a test may change a row in its savepoint; the objects of another test must not see it)."""
    return SimpleNamespace(
        departments={d.code: d for d in Department.objects.all()},
        processes={p.code: p for p in ServiceProcess.objects.all()},
    )


@pytest.fixture
def call_center_agent(user):
    return user("call_center_agent")


@pytest.fixture
def call_center_lead(user):
    return user("call_center_lead")


@pytest.fixture
def card_center_agent(user):
    return user("card_center_agent")


@pytest.fixture
def card_center_lead(user):
    return user("card_center_lead")


@pytest.fixture
def compliance_agent(user):
    return user("compliance_agent")


@pytest.fixture
def it_agent(user):
    """Staff of a department no demo complaint passes through."""
    return user("it_agent")


@pytest.fixture
def quality_officer(user):
    return user("quality_officer")


@pytest.fixture
def auditor(user):
    return user("auditor")


@pytest.fixture
def complaint(org) -> ServiceProcess:
    return org.processes["COMPLAINT"]


class Story:
    """A case's history written through the services; each step is `step` minutes after the last."""

    def __init__(self, org, user, start: datetime = T0, step: int = 10):
        self.org, self.user, self.now, self.step = org, user, start, step

    def tick(self, minutes: int | None = None) -> datetime:
        self.now += timedelta(minutes=self.step if minutes is None else minutes)
        return self.now

    def open(self, process: str = "COMPLAINT", *, actor: str = "call_center_agent", **fields) -> Case:
        fields.setdefault("title", "ATM swallowed my card")
        fields.setdefault("channel", Case.Channel.PHONE)
        case, created = services.case_open(
            process=self.org.processes[process], actor=self.user(actor), at=self.tick(), **fields
        )
        assert created
        return case

    def accept(self, case: Case, actor: str) -> Handoff:
        return services.handoff_accept(handoff=open_handoff(case), actor=self.user(actor), at=self.tick())

    def forward(self, case: Case, to_stage: str, actor: str) -> Handoff:
        return services.case_forward(case=case, to_stage=to_stage, actor=self.user(actor), at=self.tick())

    def resolve(self, case: Case, actor: str = "card_center_agent", **fields) -> Case:
        fields.setdefault("resolution", "Card returned, fee refunded.")
        fields.setdefault("recovery_measure", Case.Recovery.APOLOGY)
        return services.case_resolve(case=case, actor=self.user(actor), at=self.tick(), **fields)

    # -- whole scenes ------------------------------------------------------------------------
    def at_card_center(self, *, accepted: bool = True, **fields) -> Case:
        """A complaint taken by the call center and forwarded to the card center's investigation."""
        case = self.open(**fields)
        self.accept(case, "call_center_agent")
        self.forward(case, "INVESTIGATE_CARD", "call_center_agent")
        if accepted:
            self.accept(case, "card_center_agent")
        return case

    def resolved(self, **fields) -> Case:
        """Resolved by the card center; the call-back handoff to the call center is pending."""
        case = self.at_card_center()
        self.resolve(case, **fields)
        return case

    def closed(self) -> Case:
        case = self.resolved()
        self.accept(case, "call_center_agent")
        services.case_close(case=case, actor=self.user("call_center_agent"), at=self.tick())
        return case

    def awaiting_approval(self, amount: object = "800.00") -> Case:
        """The card center proposed a compensation above the threshold; COMPLIANCE must decide."""
        case = self.at_card_center()
        self.resolve(case, recovery_measure=Case.Recovery.COMPENSATION, compensation_amount=amount)
        return case


@pytest.fixture
def story(org, user) -> Story:
    return Story(org, user)
