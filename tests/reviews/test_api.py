"""GET /api/v1/reviews/, GET/POST/PATCH /api/v1/actions/: scope (404 outside it), bad input (400
with a stable code), a status change that skips a step (409), and a fixed number of queries a page."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from evaluations.reviews import services as reviews
from evaluations.reviews.models import ImprovementAction, ImprovementActionEvent

from .support import sh

pytestmark = pytest.mark.django_db
NOW = sh(2026, 12, 1, 10)


@pytest.fixture
def review(world, no_kick, time_machine):
    """November reviewed on 1 December (the back office bounced 2 of 4); the clock stands at 10:00."""
    cycle = world.cycle(now=sh(2026, 11, 15))
    world.bounces(sh(2026, 11, 3, 10), total=4, returned=2)
    review, _ = reviews.review_cycle_run(cycle=cycle, period_start=date(2026, 11, 1), at=sh(2026, 12, 1, 8))
    time_machine.move_to(NOW, tick=False)
    return review


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:400])
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"]
    return body


def payload(review, **overrides):
    return {
        "review": review.pk,
        "department": "RV_BACK",
        "owner": "rv_back_agent",
        "title": "Checklist before returning",
        "kind": "process_change",
        "kpi": "bounce_rate",
        "goal": "10",
        "due_date": "2026-12-20",
        **overrides,
    }


def test_a_lead_creates_an_action_with_its_baseline_from_the_review(world, review):
    response = api(world.back_lead).post("/api/v1/actions/", payload(review), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("department", "owner", "kpi", "baseline", "goal", "status", "overdue")} == {
        "department": "RV_BACK",
        "owner": "rv_back_agent",
        "kpi": "bounce_rate",
        "baseline": "50.00",
        "goal": "10.00",
        "status": "open",
        "overdue": False,
    }
    assert body["next_statuses"] == ["in_progress"]
    assert body["review_label"] == "monthly review 2026-11"
    assert [(e["kind"], e["to_status"], e["actor"]) for e in body["events"]] == [
        ("created", "open", "rv_back_lead")
    ]


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"due_date": "2026-11-30"}, "due_date_in_past", "due_date"),
        ({"department": "RV_OTHER", "owner": "rv_other_agent"}, "department_not_in_review", "department"),
        ({"owner": "rv_front_agent"}, "owner_not_in_department", "owner"),
        ({"goal": None}, "goal_required", "goal"),
        ({"goal": "60"}, "goal_not_an_improvement", "goal"),
        ({"kpi": "", "goal": "3"}, "goal_without_kpi", "goal"),
    ],
)
def test_bad_actions_are_refused_with_a_stable_code(world, review, overrides, code, field):
    response = api(world.officer).post("/api/v1/actions/", payload(review, **overrides), format="json")

    body = error(response, 400, code)
    assert list(body["fields"]) == [field]
    assert not ImprovementAction.objects.exists()


def test_only_the_departments_lead_or_the_quality_office_decides_its_actions(world, review):
    error(
        api(world.front_lead).post("/api/v1/actions/", payload(review), format="json"),
        403,
        "cannot_create_action",
    )
    # A review outside the caller's scope does not exist for it
    body = error(
        api(world.other_lead).post("/api/v1/actions/", payload(review), format="json"), 400, "invalid"
    )
    assert list(body["fields"]) == ["review"]


def test_status_changes_follow_the_path_and_skipping_a_step_is_a_conflict(world, review):
    created = api(world.back_lead).post("/api/v1/actions/", payload(review), format="json").json()
    url = f"/api/v1/actions/{created['id']}/"
    owner, officer = api(world.back_agent), api(world.officer)

    # Skipping a step: 409 with the allowed next statuses; nothing changes
    body = error(owner.patch(url, {"status": "done"}, format="json"), 409, "action_step_skipped")
    assert (body["status"], body["requested"], body["allowed"]) == ("open", "done", ["in_progress"])
    error(officer.patch(url, {"status": "verified"}, format="json"), 409, "action_step_skipped")
    # Changing the plan and skipping in one request: all or nothing
    error(owner.patch(url, {"title": "Renamed", "status": "done"}, format="json"), 409, "action_step_skipped")
    assert ImprovementAction.objects.get().title == "Checklist before returning"

    # Step by step
    assert owner.patch(url, {"status": "in_progress"}, format="json").json()["status"] == "in_progress"
    assert (
        owner.patch(url, {"status": "done", "note": "rolled out"}, format="json").json()["status"] == "done"
    )
    # The verdict by hand is the quality office's
    error(owner.patch(url, {"status": "verified"}, format="json"), 403, "cannot_verify_action")
    response = officer.patch(url, {"status": "verified", "result_value": "8"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["result_value"]) == ("verified", "8.00")
    # A checked action is final
    body = error(
        officer.patch(url, {"status": "in_progress"}, format="json"), 409, "action_transition_not_allowed"
    )
    assert body["allowed"] == []
    error(owner.patch(url, {"title": "Renamed"}, format="json"), 409, "action_checked")
    # Asking for the status it has is a no-op
    assert officer.patch(url, {"status": "verified"}, format="json").status_code == 200

    events = api(world.officer).get(url).json()["events"]
    assert [(e["kind"], e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        ("created", "", "open", "rv_back_lead"),
        ("status_changed", "open", "in_progress", "rv_back_agent"),
        ("status_changed", "in_progress", "done", "rv_back_agent"),
        ("status_changed", "done", "verified", "rv_officer"),
    ]
    assert events[2]["payload"] == {"note": "rolled out"}


def test_a_due_date_moved_into_the_past_is_refused(world, review):
    created = api(world.back_lead).post("/api/v1/actions/", payload(review), format="json").json()
    url = f"/api/v1/actions/{created['id']}/"

    body = error(
        api(world.back_agent).patch(url, {"due_date": "2026-11-20"}, format="json"), 400, "due_date_in_past"
    )
    assert list(body["fields"]) == ["due_date"]
    error(api(world.back_agent).patch(url, {}, format="json"), 400, "invalid")

    response = api(world.back_agent).patch(url, {"due_date": "2026-12-31", "goal": "8"}, format="json")
    assert response.status_code == 200
    edited = ImprovementActionEvent.objects.get(kind="edited")
    assert edited.payload == {
        "changes": {"due_date": ["2026-12-20", "2026-12-31"], "goal": ["10.00", "8.00"]}
    }


def test_the_history_of_an_action_cannot_be_rewritten(world, review):
    api(world.back_lead).post("/api/v1/actions/", payload(review), format="json")
    event = ImprovementActionEvent.objects.get()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        ImprovementActionEvent.objects.update(kind="edited")
    with pytest.raises(TypeError):
        event.delete()


def test_actions_and_reviews_are_seen_within_the_callers_scope(world, review):
    created = api(world.back_lead).post("/api/v1/actions/", payload(review), format="json").json()

    # Outside the scope: 404 and an empty list
    error(api(world.front_agent).get(f"/api/v1/actions/{created['id']}/"), 404, "not_found")
    error(api(world.other_lead).get(f"/api/v1/reviews/{review.pk}/"), 404, "not_found")
    assert api(world.other_lead).get("/api/v1/actions/").json()["count"] == 0
    assert api(world.other_lead).get("/api/v1/reviews/").json()["count"] == 0
    # The owner, a member without a scorecard, sees their action and its review
    mine = api(world.back_agent).get("/api/v1/actions/?owner=me").json()
    assert [a["id"] for a in mine["results"]] == [created["id"]]
    assert api(world.back_agent).get("/api/v1/reviews/").json()["count"] == 1
    # A lead sees their department's part of the review; the quality office all of it
    [lead_view] = api(world.back_lead).get("/api/v1/reviews/").json()["results"]
    assert lead_view["departments"] == ["RV_BACK"]
    assert [c["department"] for c in lead_view["findings"]["scorecards"]] == ["RV_BACK"]
    [office_view] = (
        api(world.officer).get("/api/v1/reviews/?period=monthly&department=RV_FRONT").json()["results"]
    )
    assert [c["department"] for c in office_view["findings"]["scorecards"]] == ["RV_BACK", "RV_FRONT"]
    assert (office_view["label"], office_view["action_count"], office_view["status"]) == (
        "2026-11",
        1,
        "open",
    )


def test_filters_overdue_and_status(world, review, time_machine):
    for title, due in (("soon", "2026-12-05"), ("later", "2026-12-28")):
        api(world.back_lead).post(
            "/api/v1/actions/", payload(review, title=title, due_date=due), format="json"
        )
    time_machine.move_to(sh(2026, 12, 10, 9), tick=False)
    client = api(world.officer)

    overdue = client.get("/api/v1/actions/?overdue=true").json()["results"]
    assert [(a["title"], a["overdue"]) for a in overdue] == [("soon", True)]
    assert [a["title"] for a in client.get("/api/v1/actions/?overdue=false").json()["results"]] == ["later"]
    assert client.get("/api/v1/actions/?status=done").json()["count"] == 0
    error(client.get("/api/v1/actions/?status=finished"), 400, "invalid")


def test_lists_cost_the_same_number_of_queries_for_one_row_or_many(world, review, django_assert_num_queries):
    client = api(world.officer)
    client.post("/api/v1/actions/", payload(review), format="json")

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    one = {url: queries(url) for url in ("/api/v1/actions/", "/api/v1/reviews/")}
    for i in range(4):
        client.post("/api/v1/actions/", payload(review, title=f"more {i}"), format="json")
    reviews.review_cycle_run(cycle=review.cycle, period_start=date(2026, 10, 1), at=NOW)
    for url, count in one.items():
        with django_assert_num_queries(count):
            assert client.get(url).json()["count"] > 1


def test_a_no_op_status_change_is_refused_to_whoever_may_not_change_the_action(world, review):
    from departments.roles import AUDITORS, ensure_role_groups
    from tests.factories import UserFactory

    created = api(world.back_lead).post("/api/v1/actions/", payload(review), format="json").json()
    url = f"/api/v1/actions/{created['id']}/"
    auditor = UserFactory(username="rv_auditor")
    auditor.groups.add(ensure_role_groups()[AUDITORS])

    # The action is open: asking for "open" would change nothing, and is still not theirs to ask
    for who in (auditor, world.front_agent):
        response = api(who).patch(url, {"status": "open"}, format="json")
        assert response.status_code in (403, 404), (who, response.status_code, response.content)
    error(
        api(world.back_agent).patch(url, {"status": "verified"}, format="json"), 403, "cannot_verify_action"
    )
    assert api(world.back_agent).patch(url, {"status": "open"}, format="json").status_code == 200
    assert not ImprovementActionEvent.objects.filter(kind="status_changed").exists()
