"""processes.sla.sla_sweep: breaches, escalation levels and "due soon" warnings, each exactly once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from departments.models import Department, Membership
from processes import services
from processes.models import (
    CaseEvent,
    Handoff,
    Notification,
    NotificationPreference,
    OutboxEntry,
    PauseSegment,
)
from processes.sla import sla_sweep
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory
from tests.support import addressed

from .conftest import RESOLUTION, RESPONSE, T0, events, minutes, open_handoff, recipients

Kind = Notification.Kind
pytestmark = pytest.mark.django_db


def test_a_pending_handoff_past_its_response_due_is_breached_and_escalated_to_its_lead(open_case):
    # Given a complaint whose intake handoff nobody accepted
    case = open_case(at=T0)
    handoff = open_handoff(case)
    assert handoff.response_due_at == T0 + RESPONSE
    now = T0 + RESPONSE + minutes(1)

    # When the sweep runs a minute after its response due time
    result = sla_sweep(now=now)

    # Then the breach is stamped at the due time and the handoff is at escalation level 1
    assert result.counts["response_breached"] == 1
    handoff.refresh_from_db()
    assert handoff.response_breached_at == handoff.response_due_at
    assert handoff.resolution_breached_at is None
    assert (handoff.escalation_level, handoff.escalated_at) == (1, now)
    # And the timeline says so, in the receiving department
    [breached] = events(handoff, CaseEvent.Kind.BREACHED)
    assert (breached.created_at, breached.department.code, breached.actor) == (now, "CALL_CENTER", None)
    assert breached.payload == {"clock": "response", "to_department": "客服中心"}
    [escalated] = events(handoff, CaseEvent.Kind.ESCALATED)
    assert escalated.payload == {"level": 1, "clock": "response", "to_department": "客服中心"}
    # And the department's people hear about the breach, its lead about the escalation
    assert recipients(Kind.BREACHED, now=now) == ["call_center_agent", "call_center_lead"]
    assert recipients(Kind.ESCALATED, now=now) == ["call_center_lead"]


def test_nothing_happens_before_a_due_time(open_case):
    case = open_case(at=T0)

    result = sla_sweep(now=T0 + minutes(11))

    assert result.total == 0 and not result.more
    handoff = open_handoff(case)
    assert (handoff.response_breached_at, handoff.escalation_level, handoff.response_warned_at) == (
        None,
        0,
        None,
    )
    assert (
        not OutboxEntry.objects.exclude(kind=Kind.HANDOFF_ARRIVED)
        .exclude(kind__startswith="customer_")
        .exists()
    )
    assert not addressed(T0 + minutes(11)).exclude(kind=Kind.HANDOFF_ARRIVED).exists()


def test_due_soon_fires_once_at_80_percent_of_the_response_target(open_case):
    case = open_case(at=T0)
    handoff = open_handoff(case)
    assert handoff.response_warn_at == T0 + minutes(12)  # 80% of 15 minutes

    assert sla_sweep(now=T0 + minutes(11)).counts["response_due_soon"] == 0
    assert sla_sweep(now=T0 + minutes(12)).counts["response_due_soon"] == 1
    assert sla_sweep(now=T0 + minutes(13)).counts["response_due_soon"] == 0
    assert sla_sweep(now=T0 + minutes(14)).total == 0

    handoff.refresh_from_db()
    assert handoff.response_warned_at == T0 + minutes(12)
    [warning] = events(handoff, CaseEvent.Kind.DUE_SOON)
    assert warning.payload["clock"] == "response"
    assert recipients(Kind.DUE_SOON, now=T0 + minutes(14)) == ["call_center_agent", "call_center_lead"]
    # A breach later does not warn again
    sla_sweep(now=T0 + minutes(16))
    assert len(events(handoff, CaseEvent.Kind.DUE_SOON)) == 1


def test_a_handoff_past_both_warn_and_due_time_is_breached_without_a_warning(open_case):
    """The sweep was down for a while: the warning is moot, only the breach is told."""
    case = open_case(at=T0)

    sla_sweep(now=T0 + minutes(20))

    handoff = open_handoff(case)
    assert handoff.response_breached_at is not None
    assert handoff.response_warned_at is None
    assert events(handoff, CaseEvent.Kind.DUE_SOON) == []
    assert not OutboxEntry.objects.filter(kind=Kind.DUE_SOON).exists()
    assert recipients(Kind.DUE_SOON, now=T0 + minutes(20)) == []


def test_an_accepted_handoff_is_warned_and_breached_on_its_resolution_clock(open_case, user):
    # Given an intake handoff accepted in time
    case = open_case(at=T0)
    handoff = services.handoff_accept(
        handoff=open_handoff(case), actor=user("call_center_agent"), at=T0 + minutes(5)
    )

    # When the sweep passes 80% and then 100% of the two-hour resolution target
    warned = sla_sweep(now=T0 + minutes(97))
    breached = sla_sweep(now=T0 + RESOLUTION + minutes(1))

    # Then the response clock is untouched, the resolution clock warned once and breached once
    assert (warned.counts["resolution_due_soon"], warned.counts["response_due_soon"]) == (1, 0)
    assert (breached.counts["resolution_breached"], breached.counts["response_breached"]) == (1, 0)
    handoff.refresh_from_db()
    assert handoff.response_breached_at is None
    assert handoff.resolution_breached_at == T0 + RESOLUTION
    assert handoff.escalation_level == 1
    assert [e.payload["clock"] for e in events(handoff, CaseEvent.Kind.BREACHED)] == ["resolution"]
    # The accepting agent is the assignee: the breach is theirs alone, the escalation the lead's
    assert recipients(Kind.BREACHED, now=T0 + RESOLUTION + minutes(1)) == ["call_center_agent"]
    assert recipients(Kind.ESCALATED, now=T0 + RESOLUTION + minutes(1)) == ["call_center_lead"]


def test_a_resolution_breach_after_a_response_breach_does_not_escalate_again(open_case):
    case = open_case(at=T0)

    sla_sweep(now=T0 + RESPONSE + minutes(1))
    result = sla_sweep(now=T0 + RESOLUTION + minutes(1))

    assert result.counts["resolution_breached"] == 1
    handoff = open_handoff(case)
    assert handoff.escalation_level == 1
    assert handoff.escalated_at == T0 + RESPONSE + minutes(1)
    assert [e.payload["clock"] for e in events(handoff, CaseEvent.Kind.BREACHED)] == [
        "response",
        "resolution",
    ]
    assert len(events(handoff, CaseEvent.Kind.ESCALATED)) == 1


def test_paused_handoffs_do_not_breach(open_case, user):
    # Given an accepted handoff paused while waiting on the customer
    agent = user("call_center_agent")
    case = open_case(at=T0)
    handoff = services.handoff_accept(handoff=open_handoff(case), actor=agent, at=T0 + minutes(5))
    services.handoff_pause(
        handoff=handoff, actor=agent, cause=PauseSegment.Cause.CUSTOMER, at=T0 + minutes(10)
    )

    # When the sweep runs long after its original due time
    result = sla_sweep(now=T0 + RESOLUTION + minutes(180))

    # Then nothing is warned, breached or escalated
    assert result.total == 0
    handoff.refresh_from_db()
    assert (handoff.resolution_breached_at, handoff.resolution_warned_at, handoff.escalation_level) == (
        None,
        None,
        0,
    )
    assert (
        not OutboxEntry.objects.exclude(kind=Kind.HANDOFF_ARRIVED)
        .exclude(kind__startswith="customer_")
        .exists()
    )
    assert not addressed(T0 + RESOLUTION + minutes(180)).exclude(kind=Kind.HANDOFF_ARRIVED).exists()

    # When it resumes, the due time moves by the paused time, and only then can it breach
    resumed_at = T0 + minutes(310)
    services.handoff_resume(handoff=handoff, actor=agent, at=resumed_at)
    handoff.refresh_from_db()
    assert handoff.resolution_due_at == T0 + RESOLUTION + minutes(300)
    assert sla_sweep(now=resumed_at).total == 0
    assert sla_sweep(now=handoff.resolution_due_at + minutes(1)).counts["resolution_breached"] == 1


@pytest.fixture
def head_office(org):
    """A parent department above the call center, with a lead and a member of its own."""
    parent = DepartmentFactory(code="HEAD_OFFICE", calendar=org.departments["CALL_CENTER"].calendar)
    MembershipFactory(user=UserFactory(username="head_office_lead"), department=parent, role="lead")
    MembershipFactory(user=UserFactory(username="head_office_member"), department=parent, role="member")
    Department.objects.filter(code="CALL_CENTER").update(parent=parent)
    return parent


def test_level_two_goes_to_the_parent_departments_lead_and_the_quality_office(
    settings, open_case, head_office
):
    settings.BATON_LEVEL2_AFTER_MINUTES = 120
    case = open_case(at=T0)
    level1_at = T0 + RESPONSE + minutes(1)
    sla_sweep(now=level1_at)

    # Not yet: 119 minutes after level 1
    early = sla_sweep(now=level1_at + minutes(119))
    assert early.counts["escalated_level_2"] == 0
    assert open_handoff(case).escalation_level == 1

    # 120 minutes after level 1
    result = sla_sweep(now=level1_at + minutes(120))

    assert result.counts["escalated_level_2"] == 1
    handoff = open_handoff(case)
    assert (handoff.escalation_level, handoff.escalated_at) == (2, level1_at + minutes(120))
    assert [e.payload["level"] for e in events(handoff, CaseEvent.Kind.ESCALATED)] == [1, 2]
    level2 = addressed(level1_at + minutes(120)).filter(
        kind=Kind.ESCALATED, dedup_key__startswith="escalated:2:"
    )
    assert sorted(level2.values_list("user__username", flat=True)) == ["head_office_lead", "quality_officer"]
    # Once: later sweeps leave level 2 alone
    assert sla_sweep(now=level1_at + minutes(600)).counts["escalated_level_2"] == 0
    assert len(events(handoff, CaseEvent.Kind.ESCALATED)) == 2


def test_level_two_reaches_whoever_holds_the_act_for_all_permission(settings, open_case, org):
    """The quality office is a permission, not a department: granted directly, it counts too;
    the demo departments have no parent, so the quality office alone hears."""
    settings.BATON_LEVEL2_AFTER_MINUTES = 30
    deputy = UserFactory(username="deputy_inspector")
    deputy.user_permissions.add(Permission.objects.get(codename="act_for_all_departments"))
    open_case(at=T0)

    sla_sweep(now=T0 + minutes(16))
    sla_sweep(now=T0 + minutes(46))

    level2 = addressed(T0 + minutes(46)).filter(kind=Kind.ESCALATED, dedup_key__startswith="escalated:2:")
    assert sorted(level2.values_list("user__username", flat=True)) == ["deputy_inspector", "quality_officer"]


def test_a_paused_handoff_is_not_escalated_to_level_two(settings, open_case, user, head_office):
    settings.BATON_LEVEL2_AFTER_MINUTES = 120
    agent = user("call_center_agent")
    case = open_case(at=T0)
    sla_sweep(now=T0 + minutes(16))
    handoff = services.handoff_accept(handoff=open_handoff(case), actor=agent, at=T0 + minutes(20))
    services.handoff_pause(
        handoff=handoff, actor=agent, cause=PauseSegment.Cause.EXTERNAL, at=T0 + minutes(30)
    )

    assert sla_sweep(now=T0 + minutes(16 + 121)).counts["escalated_level_2"] == 0
    assert Handoff.objects.get(pk=handoff.pk).escalation_level == 1


def test_an_opted_out_user_gets_no_row_of_that_kind(open_case, user):
    # Given the call center agent turned breach e-mails off (and nothing else)
    agent = user("call_center_agent")
    NotificationPreference.objects.create(user=agent, kind=Kind.BREACHED, email=False)
    NotificationPreference.objects.create(user=user("call_center_lead"), kind=Kind.DUE_SOON, email=True)
    case = open_case(at=T0)

    sla_sweep(now=T0 + minutes(12))
    sla_sweep(now=T0 + minutes(16))

    # Then the agent has no breach row at all, but still the other kinds; the lead has everything
    now = T0 + minutes(16)
    assert recipients(Kind.BREACHED, case, now=now) == ["call_center_lead"]
    assert recipients(Kind.DUE_SOON, case, now=now) == ["call_center_agent", "call_center_lead"]
    assert recipients(Kind.HANDOFF_ARRIVED, case, now=now) == ["call_center_agent", "call_center_lead"]
    # And the breach itself is recorded all the same
    assert len(events(open_handoff(case), CaseEvent.Kind.BREACHED)) == 1


def test_an_opted_out_lead_gets_no_escalation_row(open_case, user):
    NotificationPreference.objects.create(user=user("call_center_lead"), kind=Kind.ESCALATED, email=False)
    case = open_case(at=T0)

    sla_sweep(now=T0 + minutes(16))

    assert OutboxEntry.objects.filter(kind=Kind.ESCALATED, case=case).count() == 1
    assert recipients(Kind.ESCALATED, case, now=T0 + minutes(16)) == []
    assert open_handoff(case).escalation_level == 1


def test_a_claimed_handoff_notifies_its_assignee_only(open_case, user):
    case = open_case(at=T0)
    services.handoff_claim(handoff=open_handoff(case), actor=user("call_center_lead"), at=T0 + minutes(1))

    sla_sweep(now=T0 + minutes(12))
    sla_sweep(now=T0 + minutes(16))

    assert recipients(Kind.DUE_SOON, case, now=T0 + minutes(16)) == ["call_center_lead"]
    assert recipients(Kind.BREACHED, case, now=T0 + minutes(16)) == ["call_center_lead"]


def test_an_inactive_member_or_one_without_an_address_gets_nothing(open_case, user):
    agent = user("call_center_agent")
    agent.email = ""
    agent.save(update_fields=["email"])
    MembershipFactory(
        user=UserFactory(username="retired_agent", is_active=False),
        department=Membership.objects.get(user=agent, role="member").department,
    )
    case = open_case(at=T0)

    sla_sweep(now=T0 + minutes(16))

    assert recipients(Kind.BREACHED, case, now=T0 + minutes(16)) == ["call_center_lead"]
