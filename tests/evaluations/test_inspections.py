"""Three-level inspection (三级质检): recording with a score per criterion, who may inspect at which
level, and sampling N resolved cases per department and period reproducibly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.errors import PermissionDenied, StateConflict
from departments.models import Membership
from evaluations import services
from evaluations.models import Inspection, InspectionScore, Level, Scorecard, ScorecardCriterion
from tests.factories import UserFactory

from .support import assert_error, local

pytestmark = pytest.mark.django_db
OFFICER = "quality_officer"


@pytest.fixture
def scorecard(db) -> Scorecard:
    card = Scorecard.objects.create(
        code="service", name="服务质检", weight_self=20, weight_department=30, weight_quality_office=50
    )
    ScorecardCriterion.objects.create(
        scorecard=card, code="accuracy", name="准确", weight=2, max_score=10, order=1
    )
    ScorecardCriterion.objects.create(
        scorecard=card, code="courtesy", name="礼貌", weight=1, max_score=5, order=2
    )
    return card


def payload(case, **extra):
    return {
        "case": case.reference,
        "department": "CARD_CENTER",
        "level": "quality_office",
        "scorecard": "service",
        "scores": {"accuracy": 8, "courtesy": 5},
        **extra,
    }


def test_an_inspection_scores_the_weighted_criteria_out_of_100(api, demo_story, scorecard):
    case = demo_story.resolved()

    response = api(OFFICER).post("/api/v1/inspections/", payload(case, comment="ok"), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    # (2 × 8/10 + 1 × 5/5) / 3 × 100 = 86.67
    assert (body["status"], body["score"], body["level_weight"], body["inspector"]) == (
        "completed",
        "86.67",
        50,
        OFFICER,
    )
    assert {s["criterion"]: s["score"] for s in body["scores"]} == {"accuracy": "8.00", "courtesy": "5.00"}


def test_a_score_above_a_criterions_maximum_is_400_and_nothing_is_saved(api, demo_story, scorecard):
    case = demo_story.resolved()

    response = api(OFFICER).post(
        "/api/v1/inspections/", payload(case, scores={"accuracy": 11, "courtesy": 6}), format="json"
    )

    body = assert_error(response, 400, "invalid_scores")
    assert set(body["fields"]) == {"scores.accuracy", "scores.courtesy"}
    assert "maximum of 10" in body["fields"]["scores.accuracy"][0]
    assert not Inspection.objects.exists()
    assert not InspectionScore.objects.exists()


@pytest.mark.parametrize(
    ("scores", "fields"),
    [
        ({"accuracy": 8}, {"scores.courtesy"}),
        ({"accuracy": 8, "courtesy": 5, "speed": 3}, {"scores.speed"}),
        ({"accuracy": -1, "courtesy": 5}, {"scores.accuracy"}),
        ({"accuracy": "8.123", "courtesy": 5}, {"scores.accuracy"}),
    ],
)
def test_missing_unknown_or_malformed_scores_are_named(api, demo_story, scorecard, scores, fields):
    case = demo_story.resolved()

    response = api(OFFICER).post("/api/v1/inspections/", payload(case, scores=scores), format="json")

    body = assert_error(response, 400)
    assert set(body["fields"]) == fields, body
    assert not Inspection.objects.exists()


def test_an_assigned_inspection_is_completed_once(api, demo_story, scorecard, user):
    case = demo_story.resolved()
    inspection = services.inspection_assign(
        case=case,
        department=case.resolved_stage.department,
        level=Level.QUALITY_OFFICE,
        scorecard=scorecard,
        actor=user(OFFICER),
    )
    url = f"/api/v1/inspections/{inspection.pk}/complete/"

    first = api(OFFICER).post(url, {"scores": {"accuracy": 10, "courtesy": 5}}, format="json")
    again = api(OFFICER).post(url, {"scores": {"accuracy": 1, "courtesy": 1}}, format="json")

    assert first.status_code == 200, first.content
    assert first.json()["score"] == "100.00"
    assert_error(again, 409, "inspection_completed")
    assert Inspection.objects.get().score == Decimal("100.00")


def test_a_refused_completion_leaves_the_assigned_inspection_as_it_was(api, demo_story, scorecard, user):
    case = demo_story.resolved()
    inspection = services.inspection_assign(
        case=case,
        department=case.resolved_stage.department,
        level=Level.SELF,
        scorecard=scorecard,
        actor=user(OFFICER),
    )

    response = api("card_center_agent").post(
        f"/api/v1/inspections/{inspection.pk}/complete/",
        {"scores": {"accuracy": 10, "courtesy": 50}},
        format="json",
    )

    assert_error(response, 400, "invalid_scores")
    inspection.refresh_from_db()
    assert (inspection.status, inspection.score, inspection.completed_at) == ("assigned", None, None)
    assert not InspectionScore.objects.exists()


@pytest.mark.parametrize(
    ("username", "level", "allowed"),
    [
        ("card_center_agent", "self", True),
        ("card_center_agent", "department", False),
        ("card_center_lead", "department", True),
        ("card_center_lead", "quality_office", False),
        ("call_center_agent", "self", False),
        (OFFICER, "quality_office", True),
    ],
)
def test_who_may_inspect_at_which_level(api, demo_story, scorecard, username, level, allowed):
    case = demo_story.resolved()

    response = api(username).post("/api/v1/inspections/", payload(case, level=level), format="json")

    if allowed:
        assert response.status_code == 201, response.content
    else:
        assert_error(response, 403, "cannot_inspect")
        assert not Inspection.objects.exists()


def test_an_unresolved_case_a_stranger_department_or_a_second_inspection_are_refused(
    api, demo_story, scorecard
):
    open_case = demo_story.at_card_center()
    assert_error(
        api(OFFICER).post("/api/v1/inspections/", payload(open_case), format="json"), 409, "case_not_resolved"
    )

    case = demo_story.resolved()
    body = assert_error(
        api(OFFICER).post("/api/v1/inspections/", payload(case, department="IT"), format="json"),
        400,
        "department_not_on_case",
    )
    assert "department" in body["fields"]

    first = api(OFFICER).post("/api/v1/inspections/", payload(case), format="json").json()
    body = assert_error(
        api(OFFICER).post("/api/v1/inspections/", payload(case), format="json"), 409, "inspection_exists"
    )
    assert body["inspection"] == first["id"]


def test_inspections_are_listed_within_the_callers_scope(api, demo_story, scorecard):
    case = demo_story.resolved()
    api(OFFICER).post("/api/v1/inspections/", payload(case), format="json")

    card = api("card_center_agent").get("/api/v1/inspections/").json()
    it = api("it_agent").get("/api/v1/inspections/").json()

    assert card["count"] == 1 and card["results"][0]["department"] == "CARD_CENTER"
    assert it["count"] == 0
    assert_error(api("it_agent").get(f"/api/v1/inspections/{card['results'][0]['id']}/"), 404)


def test_an_assigned_inspection_is_the_assigned_inspectors(demo_story, scorecard, user):
    case = demo_story.resolved()
    department = case.resolved_stage.department
    inspector = UserFactory(username="card_inspector")
    Membership.objects.create(user=inspector, department=department, role=Membership.Role.INSPECTOR)
    inspection = services.inspection_assign(
        case=case,
        department=department,
        level=Level.DEPARTMENT,
        scorecard=scorecard,
        actor=user(OFFICER),
        inspector=inspector,
    )

    with pytest.raises(PermissionDenied) as exc:
        services.inspection_record(
            inspection=inspection, actor=user("card_center_lead"), scores={"accuracy": 1, "courtesy": 1}
        )
    assert exc.value.code == "not_your_inspection"
    done = services.inspection_record(
        inspection=inspection, actor=inspector, scores={"accuracy": 5, "courtesy": 5}
    )
    assert done.status == Inspection.Status.COMPLETED


# -- sampling -------------------------------------------------------------------------------------------------
def _resolved_cases(demo_story, count: int):
    return [demo_story.resolved() for _ in range(count)]


def test_sampling_picks_n_resolved_cases_per_department_reproducibly(demo_story, scorecard, user):
    cases = _resolved_cases(demo_story, 7)
    officer = user(OFFICER)

    first = services.inspection_sample(
        kind="monthly",
        start=date(2026, 11, 1),
        per_department=3,
        level=Level.QUALITY_OFFICE,
        scorecard=scorecard,
        actor=officer,
    )
    again = services.inspection_sample(
        kind="monthly",
        start=date(2026, 11, 1),
        per_department=3,
        level=Level.QUALITY_OFFICE,
        scorecard=scorecard,
        actor=officer,
    )

    assert len(first) == 3
    assert {i.case_id for i in first} <= {c.pk for c in cases}
    assert [i.pk for i in again] == [i.pk for i in first]
    assert Inspection.objects.count() == 3
    assert {i.department.code for i in first} == {"CARD_CENTER"}
    assert all(i.inspector.username == OFFICER for i in first)
    assert all((i.period_kind, i.period_start) == ("monthly", date(2026, 11, 1)) for i in first)


def test_the_sample_does_not_depend_on_how_the_database_orders_rows(demo_story, scorecard, user):
    _resolved_cases(demo_story, 9)
    chosen = [
        i.case_id
        for i in services.inspection_sample(
            kind="monthly",
            start=date(2026, 11, 1),
            per_department=4,
            level=Level.SELF,
            scorecard=scorecard,
            actor=user(OFFICER),
        )
    ]
    Inspection.objects.all().delete()

    other_level = services.inspection_sample(
        kind="monthly",
        start=date(2026, 11, 1),
        per_department=4,
        level=Level.DEPARTMENT,
        scorecard=scorecard,
        actor=user(OFFICER),
    )

    # the same period gives the same cases (whatever the level), chosen by a seed of period and department
    assert [i.case_id for i in other_level] == chosen


def test_sampling_assigns_department_inspectors_or_else_the_lead(demo_story, scorecard, user):
    _resolved_cases(demo_story, 4)
    sampled = services.inspection_sample(
        kind="monthly",
        start=date(2026, 11, 1),
        per_department=2,
        level=Level.DEPARTMENT,
        scorecard=scorecard,
        actor=user(OFFICER),
    )
    assert {i.inspector.username for i in sampled} == {"card_center_lead"}

    inspector = UserFactory(username="card_qc")
    Membership.objects.create(
        user=inspector, department=sampled[0].department, role=Membership.Role.INSPECTOR
    )
    resampled = services.inspection_sample(
        kind="monthly",
        start=date(2026, 11, 1),
        per_department=2,
        level=Level.SELF,
        scorecard=scorecard,
        actor=user(OFFICER),
    )
    assert {i.inspector.username for i in resampled} == {"card_qc"}


def test_sampling_only_takes_cases_resolved_in_the_period(demo_story, scorecard, user):
    _resolved_cases(demo_story, 2)
    demo_story.now = local(2026, 12, 3, 10)
    december = _resolved_cases(demo_story, 2)

    sampled = services.inspection_sample(
        kind="monthly",
        start=date(2026, 12, 1),
        per_department=5,
        level=Level.SELF,
        scorecard=scorecard,
        actor=user(OFFICER),
    )

    assert sorted(i.case_id for i in sampled) == sorted(c.pk for c in december)
    assert all(i.case_resolved_at >= local(2026, 12, 1) for i in sampled)


def test_only_the_quality_office_samples(demo_story, scorecard, user):
    with pytest.raises(PermissionDenied):
        services.inspection_sample(
            kind="monthly",
            start=date(2026, 11, 1),
            per_department=2,
            level=Level.SELF,
            scorecard=scorecard,
            actor=user("card_center_lead"),
        )


def test_sampling_a_period_without_resolved_cases_is_empty(scorecard, user, org):
    assert (
        services.inspection_sample(
            kind="weekly",
            start=date(2026, 11, 2),
            per_department=2,
            level=Level.SELF,
            scorecard=scorecard,
            actor=user(OFFICER),
        )
        == []
    )


def test_inspections_of_a_refused_assignment_raise(demo_story, scorecard, user):
    case = demo_story.at_card_center()
    with pytest.raises(StateConflict):
        services.inspection_assign(
            case=case,
            department=case.current_department,
            level=Level.SELF,
            scorecard=scorecard,
            actor=user(OFFICER),
        )


def test_listing_inspections_costs_the_same_queries_for_1_or_all_rows(api, demo_story, scorecard, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        demo_story.resolved()
    for inspection in services.inspection_sample(
        kind="monthly",
        start=date(2026, 11, 1),
        per_department=3,
        level=Level.SELF,
        scorecard=scorecard,
        actor=user(OFFICER),
    ):
        services.inspection_record(
            inspection=inspection, actor=user(OFFICER), scores={"accuracy": 7, "courtesy": 4}
        )
    client = api(OFFICER)
    client.get("/api/v1/inspections/?page_size=1")

    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/inspections/?page_size=1").json()["count"] == 3
    with CaptureQueriesContext(connection) as every:
        assert len(client.get("/api/v1/inspections/?page_size=100").json()["results"]) == 3

    assert len(one.captured_queries) == len(every.captured_queries)
