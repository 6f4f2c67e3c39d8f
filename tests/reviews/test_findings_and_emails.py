"""What a review finds (one function, shared by the e-mail, the admin and the API) and what each
recipient is sent: the lead their scorecard, the quality office the overview; in the recipient's
language, HTML with a plain-text part, admin links, customer data masked."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import override_settings

from evaluations.models import Scorecard, ScorecardCriterion
from evaluations.reviews import services as reviews
from evaluations.reviews.emails import NotificationKind
from evaluations.reviews.findings import findings_in_scope
from evaluations.reviews.models import ImprovementAction, ImprovementReview
from processes import services as process_services
from processes.models import Case, CaseEvent, Handoff, Notification, NotificationPreference, OutboxEntry
from processes.notifications import muted
from processes.sla import sla_sweep
from tests.support import addressed, delivered

from .support import sh

pytestmark = pytest.mark.django_db
NOVEMBER, DUE = date(2026, 11, 1), sh(2026, 12, 1, 8)


@pytest.fixture
def november(world, no_kick):
    """October: the back office bounced 1 of 4 (25 %); November 2 of 4 (50 %), and one intake at the
    front breached its response target and was escalated. The cycle reviews front and back."""
    cycle = world.cycle(now=sh(2026, 10, 15), extra_recipients="board@bank.example")
    world.bounces(sh(2026, 10, 5, 10), total=4, returned=1)
    reviews.review_cycle_run(cycle=cycle, period_start=date(2026, 10, 1), at=sh(2026, 11, 1, 8))
    world.bounces(sh(2026, 11, 3, 10), total=4, returned=2)
    world.open(sh(2026, 11, 20, 9))
    with muted():
        sla_sweep(now=sh(2026, 11, 20, 10))
    OutboxEntry.objects.all().delete()  # and the messages made from them
    Notification.objects.all().delete()
    review, created = reviews.review_cycle_run(cycle=cycle, period_start=NOVEMBER, at=DUE)
    assert created
    return review


def test_the_findings_name_kpis_below_target_changes_hot_spots_and_breaches(world, november):
    f = november.findings
    assert f["departments"] == ["RV_BACK", "RV_FRONT"]
    assert f["names"]["RV_BACK"] == {"name": "后台", "name_en": "Back office"}
    bounce = next(r for r in f["below_target"] if (r["department"], r["kpi"]) == ("RV_BACK", "bounce_rate"))
    assert bounce == {
        "department": "RV_BACK",
        "kpi": "bounce_rate",
        "unit": "percent",
        "direction": "lower",
        "value": "50.00",
        "target": "5.00",
        "gap": "45.00",
        "gap_percent": "900.00",
        "points": "10.00",
    }
    change = next(
        r for r in f["biggest_changes"] if (r["department"], r["kpi"]) == ("RV_BACK", "bounce_rate")
    )
    assert (
        change["previous"],
        change["value"],
        change["change"],
        change["change_percent"],
        change["trend"],
    ) == (
        "25.00",
        "50.00",
        "25.00",
        "100.00",
        "worse",
    )
    back = next(c for c in f["scorecards"] if c["department"] == "RV_BACK")
    row = next(k for k in back["kpis"] if k["kpi"] == "bounce_rate")
    assert (row["previous"], row["trend"], row["met"]) == ("25.00", "worse", False)
    # The front → back pair: 4 handoffs, 2 returned
    [hot] = f["flow"]["by_bounce_rate"]
    assert (hot["from"], hot["to"], hot["count"], hot["returned"], hot["bounce_rate"]) == (
        "RV_FRONT",
        "RV_BACK",
        4,
        2,
        "50.00",
    )
    # Breaches that happened in November (the sweep stamps each with its due time) and escalations
    start, end = sh(2026, 11, 1), sh(2026, 12, 1)

    def count(department, field):
        return Handoff.objects.filter(
            to_department=department, **{f"{field}__gte": start, f"{field}__lt": end}
        ).count()

    expected = [
        {
            "department": d.code,
            "response_breached": count(d, "response_breached_at"),
            "resolution_breached": count(d, "resolution_breached_at"),
            "escalated": CaseEvent.objects.filter(
                kind=CaseEvent.Kind.ESCALATED,
                handoff__to_department=d,
                created_at__gte=start,
                created_at__lt=end,
            ).count(),
        }
        for d in (world.front, world.back)
    ]
    assert sorted(f["breaches"], key=lambda r: r["department"]) == sorted(
        expected, key=lambda r: r["department"]
    )
    front = next(r for r in f["breaches"] if r["department"] == "RV_FRONT")
    assert front["response_breached"] >= 1 and front["escalated"] >= 1


def test_a_lead_sees_only_their_departments_part_of_the_findings(november):
    scoped = findings_in_scope(november.findings, {"RV_FRONT"})
    assert [c["department"] for c in scoped["scorecards"]] == ["RV_FRONT"]
    assert {r["department"] for r in scoped["below_target"]} <= {"RV_FRONT"}
    # A flow pair is the business of both its ends
    assert [(r["from"], r["to"]) for r in scoped["flow"]["by_bounce_rate"]] == [("RV_FRONT", "RV_BACK")]
    assert findings_in_scope(november.findings, None) == november.findings


def test_each_recipient_gets_one_email_in_their_language_with_their_part(world, november):
    rows = {n.recipient: n for n in delivered(DUE).filter(kind=NotificationKind.REVIEW)}
    assert set(rows) == {
        "rv_officer@bank.example",
        "rv_front_lead@bank.example",
        "rv_back_lead@bank.example",
        "board@bank.example",
    }
    assert november.emails == 4
    # The back office's lead reads English: a summary of their scorecard, what is below target and
    # what moved; the arrow is the direction of the change, the word whether that is better or worse
    back = rows["rv_back_lead@bank.example"]
    assert (back.language, back.user_id) == ("en", world.back_lead.pk)
    assert back.subject == "[monthly review] Improvement review 2026-11: Back office"
    assert "== Back office: D 51.67 ==" in back.body_text
    assert "- Bounce-back rate: 50% (Target 5%)" in back.body_text
    assert "- Bounce-back rate: 25% → 50% ▲ +25% (worse)" in back.body_text
    assert "Front desk" not in back.body_text.split("== KPIs below target ==")[0]
    assert "== Front desk:" not in back.body_text
    # The front's lead reads Chinese: their own scorecard
    front = rows["rv_front_lead@bank.example"]
    assert front.language == "zh-hans" and "前台" in front.subject and "后台" not in front.subject
    # The quality office and the extra address get the overview of every department
    for address in ("rv_officer@bank.example", "board@bank.example"):
        office = rows[address]
        assert "前台" in office.body_text and "后台" in office.body_text
        assert office.language == "zh-hans"
    # HTML with a plain-text part, and links into the admin
    for note in rows.values():
        # One column that a phone shows at its own width, the review's link first: no wide table
        assert note.body_html.startswith("<!doctype html>") and "<table" not in note.body_html
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in note.body_html
        assert note.body_html.index("/change/") < note.body_html.index("<h2")
        assert note.body_text and "<table" not in note.body_text
        assert f"/admin/evaluations/improvementreview/{november.pk}/change/" in note.body_text
        assert note.dedup_key.startswith(f"review:{november.pk}:")


@override_settings(SITE_URL="https://baton.bank.example")
def test_the_links_use_the_site_url(world, no_kick):
    cycle = world.cycle(now=sh(2026, 11, 15))
    review, _ = reviews.review_cycle_run(cycle=cycle, period_start=NOVEMBER, at=DUE)
    note = delivered(DUE).get(dedup_key=f"review:{review.pk}:{world.front_lead.pk}")
    assert (
        f"https://baton.bank.example/admin/evaluations/improvementreview/{review.pk}/change/"
        in note.body_text
    )
    assert "https://baton.bank.example/admin/evaluations/improvementaction/?mine=1" in note.body_html


def test_sampled_cases_appear_with_the_customer_masked(world, no_kick):
    # Given a cycle that samples two resolved cases per department for a department check
    scorecard = Scorecard.objects.create(code="RV_QA", name="QA")
    ScorecardCriterion.objects.create(scorecard=scorecard, code="ok", name="ok")
    cycle = world.cycle(
        now=sh(2026, 11, 15),
        chair=world.officer,
        inspection_scorecard=scorecard,
        inspection_level="department",
        inspection_sample_size=2,
    )
    for day in (3, 4, 5):
        case = world.to_back(sh(2026, 11, day, 10))
        with muted():
            process_services.case_resolve(
                case=case,
                actor=world.actor,
                resolution="done",
                recovery_measure=Case.Recovery.APOLOGY,
                at=sh(2026, 11, day, 11),
            )

    review, _ = reviews.review_cycle_run(cycle=cycle, period_start=NOVEMBER, at=DUE)

    sample = review.findings["inspections"]
    assert sample["sampled"] == 2
    assert {c["customer"] for c in sample["cases"]} == {"王*明"}
    assert {c["department"] for c in sample["cases"]} == {"RV_BACK"}
    notes = delivered(DUE).filter(kind=NotificationKind.REVIEW)
    assert notes.exists()
    for note in notes:
        assert "王小明" not in note.body_text + note.body_html and "13912345678" not in note.body_text
    office = notes.get(dedup_key=f"review:{review.pk}:{world.officer.pk}")
    assert "王*明" in office.body_text


def test_opted_out_leads_muted_runs_and_switched_off_recipients_get_nothing(world, no_kick):
    NotificationPreference.objects.create(user=world.front_lead, kind=NotificationKind.REVIEW, email=False)
    cycle = world.cycle(now=sh(2026, 11, 15), notify_quality_office=False)
    review, _ = reviews.review_cycle_run(cycle=cycle, period_start=NOVEMBER, at=DUE)
    assert list(addressed(DUE).values_list("recipient", flat=True)) == ["rv_back_lead@bank.example"]
    assert review.emails == 1

    with muted():
        quiet, _ = reviews.review_cycle_run(cycle=cycle, period_start=date(2026, 12, 1), at=sh(2027, 1, 1, 8))
    assert (
        quiet.emails == 0
        and not OutboxEntry.objects.filter(dedup_key__startswith=f"review:{quiet.pk}").exists()
    )
    assert addressed(sh(2027, 1, 1, 8)).count() == 1


def test_a_review_lists_overdue_actions_of_its_departments(world, no_kick):
    cycle = world.cycle(now=sh(2026, 11, 15))
    november, _ = reviews.review_cycle_run(cycle=cycle, period_start=NOVEMBER, at=DUE)
    action = reviews.action_create(
        review=november,
        department=world.front,
        owner=world.front_agent,
        title="Answer the phone faster",
        kind=ImprovementAction.Kind.STAFFING,
        due_date=date(2026, 12, 10),
        actor=world.front_lead,
        at=DUE,
    )
    december, _ = reviews.review_cycle_run(cycle=cycle, period_start=date(2026, 12, 1), at=sh(2027, 1, 1, 8))
    [row] = december.findings["overdue_actions"]
    assert (row["id"], row["days_overdue"], row["owner"], row["status"]) == (
        action.pk,
        22,
        "rv_front_agent",
        "open",
    )
    notes = delivered(sh(2027, 1, 1, 8))
    note = notes.get(dedup_key=f"review:{december.pk}:{world.back_lead.pk}")
    assert "Answer the phone faster" not in note.body_text  # the front's business
    note = notes.get(dedup_key=f"review:{december.pk}:{world.front_lead.pk}")
    assert "Answer the phone faster" in note.body_text
    assert isinstance(december, ImprovementReview) and december.run_at - DUE > timedelta(days=30)
