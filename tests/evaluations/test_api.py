"""GET /api/v1/evaluations/, /evaluations/{id}/, /kpis/, /scorecards/ and /analytics/handoff-flow/:
filters, department scope (404 outside it), error bodies, and the OpenAPI schema."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from evaluations import selectors, services
from evaluations.models import Evaluation

from .support import AFTER, NOVEMBER, T0, World, assert_error, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(demo_story):
    cases = [demo_story.closed() for _ in range(3)]
    for start in (date(2026, 10, 1), NOVEMBER):
        services.evaluation_compute_period(kind="monthly", start=start, now=AFTER)
    services.evaluation_compute_period(kind="weekly", start=date(2026, 11, 2), now=AFTER)
    return cases


def test_a_lead_lists_their_departments_evaluations_only(api, computed):
    body = api("card_center_lead").get("/api/v1/evaluations/").json()

    assert body["count"] == 3
    assert {e["department"] for e in body["results"]} == {"CARD_CENTER"}


def test_the_quality_office_lists_every_department(api, computed, org):
    body = api("quality_officer").get("/api/v1/evaluations/?page_size=200").json()

    assert body["count"] == 3 * len(org.departments)


def test_filters_by_department_period_and_grade(api, computed):
    client = api("quality_officer")

    card = client.get(
        "/api/v1/evaluations/?department=CARD_CENTER&period=monthly&period_start=2026-11-01"
    ).json()
    assert card["count"] == 1
    evaluation = card["results"][0]
    assert (evaluation["label"], evaluation["period_end"]) == ("2026-11", "2026-11-30")
    scores = {s["kpi"]: s for s in evaluation["scores"]}
    assert scores["volume"]["value"] == "3.00"
    assert scores["response_sla_rate"]["sample_size"] == 3
    assert scores["csat_avg"]["value"] is None and scores["csat_avg"]["met"] is None

    grade = evaluation["grade"]
    graded = client.get(f"/api/v1/evaluations/?grade={grade}&period=monthly").json()
    assert all(e["grade"] == grade for e in graded["results"]) and graded["count"] >= 1
    ungraded = client.get("/api/v1/evaluations/?grade=none&period=monthly&period_start=2026-11-01").json()
    assert {e["department"] for e in ungraded["results"]} >= {"SERVICE_QUALITY"}
    weekly = client.get("/api/v1/evaluations/?period=weekly&period_start_after=2026-11-01").json()
    assert weekly["count"] == Evaluation.objects.filter(kind="weekly").count()


def test_bad_filters_are_400(api, computed):
    assert_error(api("quality_officer").get("/api/v1/evaluations/?period=yearly"), 400)
    assert_error(api("quality_officer").get("/api/v1/evaluations/?period_start=not-a-date"), 400)


def test_an_evaluation_outside_the_callers_scope_is_404(api, computed, org):
    other = Evaluation.objects.filter(department=org.departments["CALL_CENTER"]).first()
    own = Evaluation.objects.filter(department=org.departments["CARD_CENTER"]).first()

    assert_error(api("card_center_lead").get(f"/api/v1/evaluations/{other.pk}/"), 404, "not_found")
    assert api("card_center_lead").get(f"/api/v1/evaluations/{own.pk}/").json()["id"] == own.pk
    assert_error(api("card_center_agent").get(f"/api/v1/evaluations/{own.pk}/"), 404)


def test_unauthenticated_calls_are_401(client, computed):
    response = client.get("/api/v1/evaluations/")
    assert_error(response, 401)


def test_listing_evaluations_costs_the_same_queries_for_any_page(
    api, computed, django_assert_max_num_queries
):
    client = api("quality_officer")
    client.get("/api/v1/evaluations/?page_size=1")  # warm the token's user
    with django_assert_max_num_queries(12) as small:
        client.get("/api/v1/evaluations/?page_size=1")
    with django_assert_max_num_queries(12) as large:
        client.get("/api/v1/evaluations/?page_size=200")
    assert len(small.captured_queries) == len(large.captured_queries)


def test_kpis_and_scorecards_are_listed(api, org):
    kpis = api("card_center_agent").get("/api/v1/kpis/").json()
    assert [k["code"] for k in kpis][:2] == ["response_sla_rate", "resolution_sla_rate"]
    assert api("card_center_agent").get("/api/v1/scorecards/").status_code == 200


# -- the handoff flow -------------------------------------------------------------------------------
def test_handoff_flow_counts_medians_and_bounces_per_pair(api, demo_story):
    from processes import services as process_services

    demo_story.closed()
    bounced = demo_story.at_card_center()
    process_services.handoff_return(
        handoff=demo_story._open_handoff(bounced),
        actor=demo_story.user("card_center_agent"),
        reason="不是本部门",
        at=demo_story.tick(),
    )

    body = (
        api("quality_officer").get("/api/v1/analytics/handoff-flow/?start=2026-11-01&end=2026-11-30").json()
    )

    cells = {(c["from_department"], c["to_department"]): c for c in body["cells"]}
    # intake → call center: 2 cases, each accepted 10 minutes after it was opened
    assert cells[(None, "CALL_CENTER")]["count"] == 2
    assert cells[(None, "CALL_CENTER")]["median_minutes_to_accept"] == "10.00"
    # call center → card center: 2 handoffs, 1 returned
    assert (
        cells[("CALL_CENTER", "CARD_CENTER")]["count"],
        cells[("CALL_CENTER", "CARD_CENTER")]["returned"],
    ) == (2, 1)
    assert cells[("CALL_CENTER", "CARD_CENTER")]["bounce_rate"] == "50.00"
    # the returned case went back: card center → call center
    assert cells[("CARD_CENTER", "CALL_CENTER")]["count"] == 2  # the call-back and the bounce
    assert {d["code"] for d in body["departments"]} == {"CALL_CENTER", "CARD_CENTER"}


def test_handoff_flow_hand_computed_on_round_the_clock_departments(world):
    for i, after in enumerate([2, 4, 6, 8]):
        case = world.open(T0 + timedelta(hours=i))
        world.accept(case, T0 + timedelta(hours=i, minutes=1))
        world.forward(case, T0 + timedelta(hours=i, minutes=2))
        world.accept(case, T0 + timedelta(hours=i, minutes=2 + after))

    flow = selectors.handoff_flow(user=world.actor, start=date(2026, 11, 1), end=date(2026, 11, 30))

    cell = flow.cells[(world.front.pk, world.back.pk)]
    # accepted after 2, 4, 6, 8 minutes: median (4 + 6) / 2 = 5
    assert (cell.count, cell.returned, cell.accepted, cell.median_minutes_to_accept) == (
        4,
        0,
        4,
        Decimal("5.00"),
    )
    assert flow.cells[(None, world.front.pk)].median_minutes_to_accept == Decimal("1.00")


def test_a_leads_flow_only_shows_pairs_touching_their_departments(api, demo_story):
    demo_story.closed()
    World("X").open(local(2026, 11, 3, 10))

    officer = (
        api("quality_officer").get("/api/v1/analytics/handoff-flow/?start=2026-11-01&end=2026-11-30").json()
    )
    lead = api("it_lead").get("/api/v1/analytics/handoff-flow/?start=2026-11-01&end=2026-11-30").json()

    assert "X_FRONT" in {c["to_department"] for c in officer["cells"]}
    assert lead["cells"] == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?start=2026-11-01",
        "?start=2026-11-30&end=2026-11-01",
        "?start=2026-01-01&end=2027-12-31",
        "?start=x&end=y",
    ],
)
def test_handoff_flow_bad_ranges_are_400(api, org, query):
    assert_error(api("quality_officer").get(f"/api/v1/analytics/handoff-flow/{query}"), 400)


def test_the_schema_documents_the_endpoints_and_their_errors(api, org):
    import yaml

    schema = yaml.safe_load(api("quality_officer").get("/api/schema/").content)
    paths = schema["paths"]
    assert "/api/v1/evaluations/" in paths
    assert "/api/v1/analytics/handoff-flow/" in paths
    feedback = paths["/api/v1/cases/{reference}/feedback/"]["post"]["responses"]
    assert {"200", "201", "400", "403", "404", "409"} <= set(feedback)
    assert {"201", "400", "409"} <= set(paths["/api/v1/inspections/"]["post"]["responses"])
