"""The review admin: cycles administered through the services (a cycle without departments is refused
on the form), the review page with findings, scorecards, charts, minutes and the actions inline,
"my actions", and the action page whose buttons call the service."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from core.messages import MESSAGES as ERROR_MESSAGES
from evaluations.reviews import services as reviews
from evaluations.reviews.models import ImprovementAction, ImprovementReview, ReviewCycle

from .support import sh

pytestmark = pytest.mark.django_db


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def review(world, no_kick, time_machine):
    cycle = world.cycle(now=sh(2026, 11, 15), chair=world.officer)
    world.bounces(sh(2026, 11, 3, 10), total=4, returned=2)
    review, _ = reviews.review_cycle_run(cycle=cycle, period_start=date(2026, 11, 1), at=sh(2026, 12, 1, 8))
    time_machine.move_to(sh(2026, 12, 1, 10), tick=False)
    return review


def cycle_form(world, **overrides):
    data = {
        "name": "Weekly huddle",
        "kind": "weekly",
        "run_day": "1",
        "run_time": "08:00",
        "notify_leads": "on",
        "notify_quality_office": "on",
        "extra_recipients": "",
        "inspection_level": "quality_office",
        "inspection_sample_size": "0",
        "is_active": "on",
        **overrides,
    }
    return {k: v for k, v in data.items() if v is not None}


def test_the_quality_office_adds_a_cycle_and_one_without_departments_is_refused(world, time_machine):
    time_machine.move_to(sh(2026, 11, 25, 10), tick=False)
    officer = client(world.officer)

    refused = officer.post("/admin/evaluations/reviewcycle/add/", cycle_form(world))
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["departments"] == [
        str(ERROR_MESSAGES["cycle_without_departments"])
    ]
    assert not ReviewCycle.objects.exists()

    added = officer.post(
        "/admin/evaluations/reviewcycle/add/", cycle_form(world, departments=[world.back.pk, world.front.pk])
    )
    assert added.status_code == 302, added.content[:2000]
    cycle = ReviewCycle.objects.get()
    assert (cycle.next_period_start, cycle.next_run_at, cycle.created_by) == (
        date(2026, 11, 23),
        sh(2026, 11, 30, 8),
        world.officer,
    )
    assert set(cycle.departments.values_list("code", flat=True)) == {"RV_BACK", "RV_FRONT"}
    # Leads may not administer cycles
    assert client(world.back_lead).get("/admin/evaluations/reviewcycle/add/").status_code == 403


def test_the_review_page_shows_findings_scorecards_charts_and_the_actions(world, review):
    action = reviews.action_create(
        review=review,
        department=world.back,
        owner=world.back_agent,
        title="Checklist before returning",
        kind=ImprovementAction.Kind.PROCESS_CHANGE,
        kpi_code="bounce_rate",
        goal="10",
        due_date=date(2026, 12, 20),
        actor=world.back_lead,
    )
    page = client(world.officer).get(f"/admin/evaluations/improvementreview/{review.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="module review-scorecard"') == 2
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="kpi-trend"') == 2
    assert "50%" in html and "5%" in html  # the back office's bounce rate against its target
    assert "Checklist before returning" in html  # the actions inline
    assert f"/admin/evaluations/improvementaction/{action.pk}/change/" in html
    assert 'name="minutes"' in html and 'name="close_review"' in html
    assert f"/admin/evaluations/improvementaction/add/?review={review.pk}" in html

    # A lead reads their department's part, and cannot record the minutes
    lead = (
        client(world.back_lead)
        .get(f"/admin/evaluations/improvementreview/{review.pk}/change/")
        .content.decode()
    )
    assert lead.count('class="module review-scorecard"') == 1
    assert 'name="minutes"' not in lead


def test_the_chair_records_the_minutes_and_closes_the_review(world, review):
    response = client(world.officer).post(
        f"/admin/evaluations/improvementreview/{review.pk}/change/",
        {
            "minutes": "Bounces discussed; the back office adds a checklist.",
            "close_review": "on",
            "actions-TOTAL_FORMS": "0",
            "actions-INITIAL_FORMS": "0",
            "actions-MIN_NUM_FORMS": "0",
            "actions-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    review.refresh_from_db()
    assert (review.status, review.closed_by, review.minutes) == (
        ImprovementReview.Status.CLOSED,
        world.officer,
        "Bounces discussed; the back office adds a checklist.",
    )


def test_a_lead_adds_an_action_and_a_past_due_date_is_shown_as_an_error(world, review):
    lead = client(world.back_lead)
    form = {
        "review": review.pk,
        "department": world.back.pk,
        "owner": world.back_agent.pk,
        "title": "Checklist before returning",
        "kind": "process_change",
        "kpi_code": "bounce_rate",
        "goal": "10",
        "due_date": "2026-11-20",
    }
    refused = lead.post("/admin/evaluations/improvementaction/add/", form)
    assert refused.status_code == 200
    assert refused.context["form"].errors["due_date"] == [str(ERROR_MESSAGES["due_date_in_past"])]
    assert not ImprovementAction.objects.exists()

    added = lead.post("/admin/evaluations/improvementaction/add/", {**form, "due_date": "2026-12-20"})
    assert added.status_code == 302
    action = ImprovementAction.objects.get()
    assert (action.baseline, action.created_by) == (50, world.back_lead)


def test_the_owner_moves_an_action_on_its_page_and_finds_it_under_my_actions(world, review):
    action = reviews.action_create(
        review=review,
        department=world.back,
        owner=world.back_agent,
        title="Checklist before returning",
        kind=ImprovementAction.Kind.TRAINING,
        due_date=date(2026, 12, 20),
        actor=world.back_lead,
    )
    owner = client(world.back_agent)
    url = f"/admin/evaluations/improvementaction/{action.pk}/change/"
    page = owner.get(url).content.decode()
    assert 'name="status" value="in_progress"' in page and 'value="done"' not in page

    skipped = owner.post(url, {"do": "status", "status": "done"}, follow=True)
    assert [m.message for m in skipped.context["messages"]] == [str(ERROR_MESSAGES["action_step_skipped"])]
    action.refresh_from_db()
    assert action.status == ImprovementAction.Status.OPEN
    moved = owner.post(url, {"do": "status", "status": "in_progress", "note": "started"})
    assert moved.status_code == 302
    action.refresh_from_db()
    assert action.status == ImprovementAction.Status.IN_PROGRESS
    assert "started" in owner.get(url).content.decode()  # the history

    mine = owner.get("/admin/evaluations/improvementaction/mine/")
    assert mine.status_code == 302 and mine.url.endswith("?mine=1")
    listing = owner.get(mine.url).content.decode()
    assert "Checklist before returning" in listing
    assert "Checklist before returning" not in client(world.front_agent).get(mine.url).content.decode()


def test_the_changelists_cost_the_same_number_of_queries_for_one_row_or_many(world, review):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def plan(title: str) -> None:
        reviews.action_create(
            review=review,
            department=world.back,
            owner=world.back_agent,
            title=title,
            kind=ImprovementAction.Kind.TRAINING,
            due_date=date(2026, 12, 20),
            actor=world.back_lead,
        )

    officer = client(world.officer)
    urls = ("/admin/evaluations/improvementaction/", "/admin/evaluations/improvementreview/")
    plan("first")

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert officer.get(url).status_code == 200
        return len(ctx.captured_queries)

    one = {url: queries(url) for url in urls}
    for i in range(3):
        plan(f"more {i}")
    reviews.review_cycle_run(cycle=review.cycle, period_start=date(2026, 10, 1), at=sh(2026, 12, 1, 9))
    assert {url: queries(url) for url in urls} == one
