"""The demo organisation and processes, and a few ways to put cases into a state through the
services (never by writing statuses directly)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import constants, get_messages
from django.urls import reverse
from django.utils import timezone

from processes import services
from processes.models import Case, Handoff, ServiceProcess


def user(username: str):
    return get_user_model().objects.get(username=username)


def open_handoff(case: Case) -> Handoff:
    return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)


def case_url(case: Case) -> str:
    return reverse("admin:processes_case_change", args=[case.pk])


def action_url(case: Case, action: str) -> str:
    return reverse("admin:processes_case_action", args=[case.pk, action])


QUEUE_URL = "/admin/processes/handoff/"


def last_message(response):
    """The message the request added (earlier unread ones are still in the cookie before it)."""
    stored = list(get_messages(response.wsgi_request))
    return stored[-1] if stored else None


def succeeded(response) -> bool:
    message = last_message(response)
    return response.status_code == 302 and message is not None and message.level == constants.SUCCESS


def refused(response) -> bool:
    message = last_message(response)
    return response.status_code == 302 and message is not None and message.level == constants.ERROR


class Cases:
    """Builds cases of the demo COMPLAINT process in a given state, through the services."""

    def open(
        self,
        *,
        at: datetime | None = None,
        title: str = "信用卡年费争议",
        priority: str = "normal",
        process: str = "COMPLAINT",
        name: str = "张小三",
        phone: str = "13812345678",
        actor: str = "call_center_agent",
    ) -> Case:
        case, _ = services.case_open(
            process=ServiceProcess.objects.get(code=process),
            title=title,
            channel=Case.Channel.PHONE,
            priority=priority,
            customer_id="110101199001011234",
            customer_name=name,
            customer_phone=phone,
            actor=user(actor),
            at=at,
        )
        return case

    def accepted_intake(self, *, at: datetime | None = None, **kwargs) -> Case:
        case = self.open(at=at, **kwargs)
        services.handoff_accept(handoff=open_handoff(case), actor=user("call_center_agent"), at=at)
        return case

    def at_card_center(self, *, accepted: bool = False, at: datetime | None = None, **kwargs) -> Case:
        """Forwarded by the call center to the card center's investigation."""
        case = self.accepted_intake(at=at, **kwargs)
        services.case_forward(
            case=case, to_stage="INVESTIGATE_CARD", actor=user("call_center_agent"), note="请核实年费", at=at
        )
        if accepted:
            services.handoff_accept(handoff=open_handoff(case), actor=user("card_center_agent"), at=at)
        return case

    def resolved(self, **kwargs) -> Case:
        """Resolved by the card center; the call-back handoff waits at the call center."""
        case = self.at_card_center(accepted=True, **kwargs)
        services.case_resolve(
            case=case,
            actor=user("card_center_agent"),
            resolution="年费已退还",
            recovery_measure=Case.Recovery.FEE_WAIVER,
        )
        return case

    def closed(self, **kwargs) -> Case:
        case = self.resolved(**kwargs)
        services.handoff_accept(handoff=open_handoff(case), actor=user("call_center_agent"))
        services.case_close(case=case, actor=user("call_center_agent"))
        return case


@pytest.fixture
def demo(db):
    """The demo data: departments, calendars, role groups, demo users and the four processes."""
    from departments.demo import seed_organisation
    from processes.demo import seed_processes

    return seed_organisation(), seed_processes()


@pytest.fixture
def cases(demo) -> Cases:
    return Cases()


@pytest.fixture
def login(client):
    def as_user(username: str):
        client.force_login(user(username))
        return client

    return as_user


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def ago(now):
    def before(**delta) -> datetime:
        return now - timedelta(**delta)

    return before
