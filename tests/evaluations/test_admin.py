"""The admin: department scope of evaluations (a lead sees their own, the quality office all), the
scorecard page with its server-side charts, the flow heat map, exports, and the pages that write
through the services (feedback, inspections, sampling, computing a period)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from django.test import Client
from openpyxl import load_workbook

from evaluations import services
from evaluations.models import (
    CustomerFeedback,
    Evaluation,
    Inspection,
    InspectionScore,
    Scorecard,
    ScorecardCriterion,
)
from processes.models import CaseEvent

from .support import AFTER, NOVEMBER

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/evaluations/evaluation/"


@pytest.fixture
def computed(demo_story):
    """Two complaints resolved by the card center and closed by the call center in November."""
    cases = [demo_story.closed() for _ in range(2)]
    services.evaluation_compute_period(kind="monthly", start=NOVEMBER, now=AFTER)
    services.evaluation_compute_period(kind="monthly", start=date(2026, 10, 1), now=AFTER)
    return cases


@pytest.fixture
def browser(user):
    def login(username: str) -> Client:
        client = Client()
        client.force_login(user(username))
        return client

    return login


def _departments_listed(response) -> set[str]:
    return set(re.findall(r'class="field-department_name"><a [^>]*>([^<]+)</a>', response.content.decode()))


def test_a_lead_sees_only_their_departments_evaluations(browser, computed, org):
    response = browser("card_center_lead").get(CHANGELIST)

    assert response.status_code == 200
    assert _departments_listed(response) == {org.departments["CARD_CENTER"].name}
    other = Evaluation.objects.filter(department=org.departments["CALL_CENTER"]).first()
    assert browser("card_center_lead").get(f"{CHANGELIST}{other.pk}/change/").status_code == 404


def test_the_quality_office_and_auditors_see_every_department(browser, computed, org):
    for username in ("quality_officer", "auditor"):
        response = browser(username).get(CHANGELIST)
        assert len(_departments_listed(response)) == len(org.departments)


def test_staff_who_lead_nothing_see_no_evaluation(browser, computed):
    response = browser("card_center_agent").get(CHANGELIST)

    assert response.status_code == 200
    assert _departments_listed(response) == set()


def test_an_evaluation_page_lists_its_kpi_scores(browser, computed, org):
    evaluation = Evaluation.objects.get(department=org.departments["CARD_CENTER"], period_start=NOVEMBER)

    response = browser("card_center_lead").get(
        f"{CHANGELIST}{evaluation.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert "response SLA rate" in response.content.decode()


def test_the_scorecard_page_draws_trend_charts_on_the_server(browser, computed, time_machine):
    # The charts cover the 12 months up to today: look at them when November's figures were computed.
    time_machine.move_to(AFTER, tick=False)
    response = browser("card_center_lead").get(f"{CHANGELIST}scorecard/?department=CARD_CENTER&kind=monthly")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="kpi-trend"') == 11
    assert "<circle" in html  # November has values
    # nothing from the internet: no external script, stylesheet or image
    assert not re.search(r'(src|href)="https?://', html)


def test_a_lead_cannot_open_another_departments_scorecard(browser, computed):
    client = browser("card_center_lead")

    assert client.get(f"{CHANGELIST}scorecard/?department=CALL_CENTER").status_code == 404
    assert client.get(f"{CHANGELIST}scorecard/").status_code == 200  # defaults to their own


def test_the_flow_heat_map(browser, computed):
    response = browser("quality_officer").get(
        f"{CHANGELIST}flow/?start=2026-11-01&end=2026-11-30&metric=count"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="heatmap"' in html
    # Department names, not codes; counts in the neutral scale; units in the page's language
    assert ">信用卡中心<" in html and ">客服中心<" in html and "CARD_CENTER" not in html
    assert 'class="heat-count heat-5"' in html and "heat-alarm" not in html
    assert " min " not in html and "分钟" in html
    assert "style=" not in html.split('class="heatmap"')[1]

    by_bounce = browser("quality_officer").get(
        f"{CHANGELIST}flow/?start=2026-11-01&end=2026-11-30&metric=bounce"
    )
    assert "heat-alarm" in by_bounce.content.decode()


def test_exports_as_csv_and_xlsx(browser, computed, org):
    client = browser("quality_officer")

    csv_response = client.get(f"{CHANGELIST}export/csv/?kind=monthly")
    xlsx_response = client.get(f"{CHANGELIST}export/xlsx/?kind=monthly")

    text = csv_response.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:4] == ["department", "department_name", "period", "label"]
    assert "response_sla_rate_target" in table[0]
    assert len(table) == 1 + 2 * len(org.departments)
    workbook = load_workbook(io.BytesIO(xlsx_response.content))
    sheet = workbook.active
    assert sheet.max_row == 1 + 2 * len(org.departments)
    assert xlsx_response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_an_export_keeps_the_leads_scope(browser, computed):
    response = browser("card_center_lead").get(f"{CHANGELIST}export/csv/")

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
    assert {r[0] for r in rows} == {"CARD_CENTER"}


def test_the_export_action_on_selected_rows(browser, computed, org):
    picked = list(Evaluation.objects.filter(department=org.departments["IT"]).values_list("pk", flat=True))

    response = browser("quality_officer").post(
        CHANGELIST, {"action": "export_xlsx", "_selected_action": picked, "index": 0}
    )

    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content)).active.max_row == 1 + len(picked)


def test_recording_feedback_in_the_admin(browser, computed):
    case = computed[0]
    url = "/admin/evaluations/customerfeedback/add/"
    client = browser("quality_officer")

    bad = client.post(url, {"case": case.reference, "survey_id": "CALL-1", "csat": "6", "channel": "phone"})
    assert bad.status_code == 200 and not CustomerFeedback.objects.exists()

    good = client.post(
        url, {"case": case.reference, "survey_id": "CALL-1", "csat": "4", "nps": "9", "channel": "phone"}
    )
    assert good.status_code == 302
    assert CustomerFeedback.objects.get().csat == 4
    assert CaseEvent.objects.filter(case=case, kind="feedback_received").count() == 1


@pytest.fixture
def scorecard(db) -> Scorecard:
    card = Scorecard.objects.create(code="qa", name="QA")
    ScorecardCriterion.objects.create(scorecard=card, code="accuracy", name="准确", weight=1, max_score=10)
    return card


def test_assigning_and_recording_an_inspection_in_the_admin(browser, computed, scorecard, org):
    client = browser("quality_officer")
    assign = client.post(
        "/admin/evaluations/inspection/add/",
        {
            "case": computed[0].reference,
            "department": org.departments["CARD_CENTER"].pk,
            "level": "quality_office",
            "scorecard": scorecard.pk,
        },
    )
    assert assign.status_code == 302, assign.content[:2000]
    inspection = Inspection.objects.get()
    page = f"/admin/evaluations/inspection/{inspection.pk}/change/"

    # The page shows the case being inspected beside the form: what was asked and how it was resolved
    form_page = client.get(page).content.decode()
    case = computed[0]
    assert 'class="module inspection-case"' in form_page
    assert case.title in form_page and case.resolution and case.resolution in form_page
    assert f"/admin/processes/case/{case.pk}/change/" in form_page

    too_high = client.post(page, {"score_accuracy": "11"})
    assert too_high.status_code == 200
    inspection.refresh_from_db()
    assert inspection.status == "assigned" and not InspectionScore.objects.exists()

    done = client.post(page, {"score_accuracy": "9", "comment": "ok"})
    assert done.status_code == 302
    inspection.refresh_from_db()
    assert (inspection.status, str(inspection.score)) == ("completed", "90.00")
    assert "90.00" in client.get(page).content.decode()


def test_sampling_and_computing_are_the_quality_offices(browser, computed, scorecard):
    officer = browser("quality_officer")
    lead = browser("card_center_lead")

    assert lead.get("/admin/evaluations/inspection/sample/").status_code == 403
    assert lead.get(f"{CHANGELIST}compute/").status_code == 403
    sampled = officer.post(
        "/admin/evaluations/inspection/sample/",
        {
            "kind": "monthly",
            "start": "2026-11-01",
            "per_department": 5,
            "level": "self",
            "scorecard": scorecard.pk,
        },
    )
    computed_now = officer.post(f"{CHANGELIST}compute/", {"kind": "weekly", "start": "2026-11-02"})

    assert sampled.status_code == 302 and Inspection.objects.count() == 2
    assert computed_now.status_code == 302
    assert Evaluation.objects.filter(kind="weekly").exists()


def test_the_quality_office_edits_kpis(browser):
    response = browser("quality_officer").get("/admin/evaluations/kpi/")

    assert response.status_code == 200
    assert 'name="form-0-target"' in response.content.decode()


def test_the_evaluation_list_costs_the_same_queries_whatever_its_length(browser, computed):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = browser("quality_officer")
    client.get(CHANGELIST)
    one_department = Evaluation.objects.first().department_id
    with CaptureQueriesContext(connection) as few:
        client.get(f"{CHANGELIST}?department={one_department}")
    with CaptureQueriesContext(connection) as many:
        client.get(CHANGELIST)

    assert len(many.captured_queries) == len(few.captured_queries)
