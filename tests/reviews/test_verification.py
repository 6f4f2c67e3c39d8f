"""Check (PDCA): an action decided in one review is judged at the next one from the new evaluation,
and the review e-mail says whether it worked."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext

from evaluations.reviews import services as reviews
from evaluations.reviews.models import ImprovementAction, ImprovementActionEvent, ImprovementReview
from tests.support import delivered

from .support import sh

pytestmark = pytest.mark.django_db
Status = ImprovementAction.Status


def review_of(month: date) -> ImprovementReview:
    return ImprovementReview.objects.get(period_start=month)


def plan_bounce_action(world, review: ImprovementReview, *, goal: str = "10") -> ImprovementAction:
    """The back office's lead plans an action on its bounce-back rate; the owner works it to done."""
    action = reviews.action_create(
        review=review,
        department=world.back,
        owner=world.back_agent,
        title="Checklist before returning",
        kind=ImprovementAction.Kind.PROCESS_CHANGE,
        kpi_code="bounce_rate",
        goal=goal,
        due_date=date(2026, 12, 20),
        actor=world.back_lead,
        at=sh(2026, 12, 1, 10),
    )
    reviews.action_change_status(
        action=action, status=Status.IN_PROGRESS, actor=world.back_agent, at=sh(2026, 12, 2)
    )
    reviews.action_change_status(
        action=action, status=Status.DONE, actor=world.back_agent, at=sh(2026, 12, 10)
    )
    return action


@pytest.mark.parametrize(
    ("returned_in_december", "status", "value", "verdict", "label"),
    [
        (0, Status.VERIFIED, "0.00", "effective", "effective"),
        (2, Status.NOT_EFFECTIVE, "50.00", "not_effective", "not effective"),
    ],
)
def test_a_bounce_rate_action_is_judged_at_the_next_review_and_the_email_says_so(
    world, no_kick, returned_in_december, status, value, verdict, label
):
    # Given November: the back office bounced 2 of its 4 handoffs (50 %, target 5 %)
    world.cycle(now=sh(2026, 11, 15))
    world.bounces(sh(2026, 11, 3, 10), total=4, returned=2)
    reviews.review_cycle_run_due(now=sh(2026, 12, 1, 8))
    november = review_of(date(2026, 11, 1))
    assert {
        "department": "RV_BACK",
        "kpi": "bounce_rate",
        "value": "50.00",
        "target": "5.00",
        "gap": "45.00",
    }.items() <= next(r for r in november.findings["below_target"] if r["kpi"] == "bounce_rate").items()
    # And an action on it, its baseline taken from the review, done on 10 December
    action = plan_bounce_action(world, november)
    assert (action.baseline, action.goal) == (Decimal("50.00"), Decimal("10"))

    # When December's handoffs bounce (or not) and December is reviewed
    world.bounces(sh(2026, 12, 12, 10), total=4, returned=returned_in_december)
    reviews.review_cycle_run_due(now=sh(2027, 1, 1, 8))
    december = review_of(date(2026, 12, 1))

    # Then the action is judged from December's bounce rate against its goal
    action.refresh_from_db()
    assert (action.status, action.result_value, action.result_review) == (status, Decimal(value), december)
    assert action.verified_at == sh(2027, 1, 1, 8)
    event = ImprovementActionEvent.objects.get(action=action, kind=ImprovementActionEvent.Kind.CHECKED)
    assert (event.from_status, event.to_status) == (Status.DONE, status)
    assert event.payload == {
        "review": december.pk,
        "period": "2026-12",
        "kpi": "bounce_rate",
        "baseline": "50.00",
        "goal": "10.00",
        "value": value,
        "effective": verdict == "effective",
    }
    [checked] = december.findings["checked_actions"]
    assert (checked["id"], checked["verdict"], checked["value"]) == (action.pk, verdict, value)

    # And the e-mails say so: the back office's lead in English, the quality office in Chinese
    notes = delivered(sh(2027, 1, 1, 8))
    lead = notes.get(dedup_key=f"review:{december.pk}:{world.back_lead.pk}")
    line = next(x for x in lead.body_text.splitlines() if x.startswith("- Checklist before returning"))
    assert line == (
        f"- Checklist before returning (Back office): {label} · Bounce-back rate 50% → "
        f"{value.rstrip('0').rstrip('.')}% (Goal 10%)"
    )
    assert (
        "Actions checked in this review" in lead.body_text and "Checklist before returning" in lead.body_html
    )
    office = notes.get(dedup_key=f"review:{december.pk}:{world.officer.pk}")
    line = next(x for x in office.body_text.splitlines() if x.startswith("- Checklist before returning"))
    with translation.override("zh-hans"):
        chinese = gettext(label)
    assert chinese != label and line.startswith(f"- Checklist before returning (后台): {chinese} · ")


def test_an_action_not_done_by_the_next_review_is_not_judged_but_shows_its_latest_value(world, no_kick):
    world.cycle(now=sh(2026, 11, 15))
    world.bounces(sh(2026, 11, 3, 10), total=4, returned=2)
    reviews.review_cycle_run_due(now=sh(2026, 12, 1, 8))
    action = reviews.action_create(
        review=review_of(date(2026, 11, 1)),
        department=world.back,
        owner=world.back_agent,
        title="Still working on it",
        kind=ImprovementAction.Kind.TRAINING,
        kpi_code="bounce_rate",
        goal="10",
        due_date=date(2026, 12, 20),
        actor=world.officer,
        at=sh(2026, 12, 1, 10),
    )
    reviews.action_change_status(
        action=action, status=Status.IN_PROGRESS, actor=world.back_agent, at=sh(2026, 12, 2)
    )
    world.bounces(sh(2026, 12, 12, 10), total=4, returned=1)

    reviews.review_cycle_run_due(now=sh(2027, 1, 1, 8))

    action.refresh_from_db()
    assert action.status == Status.IN_PROGRESS and action.result_review is None
    december = review_of(date(2026, 12, 1))
    assert december.findings["checked_actions"] == []
    [row] = december.findings["open_actions"]
    assert (row["id"], row["latest"], row["overdue"], row["days_overdue"]) == (action.pk, "25.00", True, 12)
    assert december.findings["overdue_actions"] == [row]


def test_an_action_done_after_the_period_ended_waits_for_the_following_review(world, no_kick):
    world.cycle(now=sh(2026, 11, 15))
    world.bounces(sh(2026, 11, 3, 10), total=4, returned=2)
    reviews.review_cycle_run_due(now=sh(2026, 12, 1, 8))
    action = plan_bounce_action(world, review_of(date(2026, 11, 1)))
    # Reopened and finished again only in January: December's data cannot show its effect
    reviews.action_change_status(
        action=action, status=Status.IN_PROGRESS, actor=world.back_agent, at=sh(2026, 12, 11)
    )
    reviews.action_change_status(
        action=action, status=Status.DONE, actor=world.back_agent, at=sh(2027, 1, 1, 7)
    )

    reviews.review_cycle_run_due(now=sh(2027, 1, 1, 8))

    action.refresh_from_db()
    assert action.status == Status.DONE
    december = review_of(date(2026, 12, 1))
    assert [(r["id"], r["reason"]) for r in december.findings["awaiting_check"]] == [(action.pk, "no_data")]
