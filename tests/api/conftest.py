"""Fixtures of the API tests: the demo organisation and processes, token clients per demo user, and
helpers that build a case's state through the services (never raw ORM writes)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from processes import services
from processes.models import Case, Handoff


@pytest.fixture
def story(org, user):
    """Build state through the services: `story.open()`, `story.accept(case)`, `story.to_card(case)`…"""

    def open_handoff(case: Case) -> Handoff:
        return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)

    def open_case(process: str = "COMPLAINT", **kwargs) -> Case:
        kwargs.setdefault("title", "信用卡年费争议")
        kwargs.setdefault("channel", Case.Channel.PHONE)
        kwargs.setdefault("customer_name", "张小三")
        kwargs.setdefault("customer_phone", "13812345678")
        kwargs.setdefault("customer_id", "C-000123456")
        case, _ = services.case_open(
            process=org.processes[process], actor=user("call_center_agent"), **kwargs
        )
        return case

    def accept(case: Case, username: str) -> Handoff:
        return services.handoff_accept(handoff=open_handoff(case), actor=user(username))

    def forward(case: Case, stage: str, username: str) -> Handoff:
        return services.case_forward(case=case, to_stage=stage, actor=user(username))

    def at_card_center(process: str = "COMPLAINT", accepted: bool = True, **kwargs) -> Case:
        """A complaint accepted by the card center for investigation."""
        case = open_case(process, **kwargs)
        accept(case, "call_center_agent")
        forward(case, "INVESTIGATE_CARD" if process == "COMPLAINT" else "CARD_REVIEW", "call_center_agent")
        if accepted:
            accept(case, "card_center_agent")
        return case

    def resolved(**kwargs) -> Case:
        case = at_card_center()
        services.case_resolve(
            case=case,
            actor=user("card_center_agent"),
            resolution="年费已减免",
            recovery_measure=Case.Recovery.FEE_WAIVER,
            **kwargs,
        )
        return Case.objects.get(pk=case.pk)

    def closed() -> Case:
        case = resolved()
        accept(case, "call_center_agent")
        services.case_close(case=case, actor=user("call_center_agent"))
        return Case.objects.get(pk=case.pk)

    return SimpleNamespace(
        open=open_case,
        open_handoff=open_handoff,
        accept=accept,
        forward=forward,
        at_card_center=at_card_center,
        resolved=resolved,
        closed=closed,
    )


def assert_error(response, status: int, code: str | None = None) -> dict:
    """An error answer: JSON with a stable code and a human detail (and `fields` on a 400)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["detail"], str) and body["detail"]
    if status == 400:
        assert isinstance(body["fields"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body
