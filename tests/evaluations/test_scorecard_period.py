"""The scorecard shows one period: by default the last closed period with an evaluation (a lead judges
a finished month, not the first days of the next), the period in progress only when asked for and
labelled as such; every KPI card shows the figure of that same period and says which one it is."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client

from evaluations import services
from evaluations.periods import PeriodKind
from evaluations.selectors import scorecard_period

from .support import SHANGHAI, DemoStory

pytestmark = pytest.mark.django_db
SCORECARD = "/admin/evaluations/evaluation/scorecard/"


@pytest.fixture
def october_and_december(org, user, time_machine):
    """Card-center complaints closed in October and in early December; November was never computed.
    Today is 10 December: October is the last closed period with an evaluation."""
    from datetime import datetime

    october = DemoStory(org, user, start=datetime(2026, 10, 12, 10, tzinfo=SHANGHAI))
    october.closed()
    december = DemoStory(org, user, start=datetime(2026, 12, 2, 10, tzinfo=SHANGHAI))
    december.closed()
    now = datetime(2026, 12, 10, 12, tzinfo=SHANGHAI)
    services.evaluation_compute_period(kind="monthly", start=date(2026, 10, 1), now=now)
    services.evaluation_compute_period(kind="monthly", start=date(2026, 12, 1), now=now)
    time_machine.move_to(now, tick=False)


def _lead(user) -> Client:
    client = Client()
    client.force_login(user("card_center_lead"))
    return client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_scorecard_opens_on_the_last_closed_period(october_and_december, user):
    response = _lead(user).get(f"{SCORECARD}?department=CARD_CENTER", HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["page"].period.label == "2026-10"
    assert response.context["page"].in_progress is False
    assert "Period 2026-10 (2026-10-01 – 2026-10-31)" in _text(html)
    # Every KPI card names the period its figure is from, and it is October for all of them.
    cards = re.findall(r'<span class="kpi-period">([^<]*)</span>', html)
    assert len(cards) == 11 and set(cards) == {"2026-10"}
    # The picker offers December, labelled as in progress.
    assert re.search(r'<option value="2026-12-01">2026-12 \(in progress\)</option>', html)


def test_the_period_in_progress_on_request_is_labelled(october_and_december, user):
    response = _lead(user).get(
        f"{SCORECARD}?department=CARD_CENTER&kind=monthly&period=2026-12-01", HTTP_ACCEPT_LANGUAGE="en"
    )

    html = response.content.decode()
    assert response.context["page"].period.label == "2026-12"
    assert "in progress: figures so far" in html
    assert set(re.findall(r'<span class="kpi-period">([^<]*)</span>', html)) == {"2026-12 (in progress)"}


def test_a_kpi_without_a_figure_in_the_period_says_so_and_borrows_none(october_and_december, user):
    # November has no evaluation: its page shows no figure rather than October's or December's.
    response = _lead(user).get(
        f"{SCORECARD}?department=CARD_CENTER&period=2026-11-01", HTTP_ACCEPT_LANGUAGE="en"
    )

    html = response.content.decode()
    assert response.context["page"].period.label == "2026-11"
    assert "No evaluation computed for this period yet." in html
    assert 'class="kpi-latest"' in html and "<strong class=" not in html.split('class="kpi-grid"')[1]


def test_a_date_that_starts_no_period_of_the_kind_falls_back_to_the_default(october_and_december, user):
    response = _lead(user).get(f"{SCORECARD}?department=CARD_CENTER&kind=monthly&period=2026-12-07")

    assert response.status_code == 200
    assert response.context["page"].period.label == "2026-10"


@pytest.mark.parametrize(
    ("evaluated", "requested", "expected", "in_progress"),
    [
        ({date(2026, 10, 1), date(2026, 12, 1)}, None, date(2026, 10, 1), False),
        ({date(2026, 12, 1)}, None, date(2026, 12, 1), True),
        (set(), None, date(2026, 12, 1), True),
        ({date(2026, 11, 1)}, date(2027, 1, 1), date(2026, 11, 1), False),  # the future: default
        ({date(2026, 11, 1)}, date(2026, 9, 1), date(2026, 9, 1), False),
    ],
)
def test_scorecard_period(evaluated, requested, expected, in_progress):
    period, running = scorecard_period(
        kind=PeriodKind.MONTHLY, evaluated=evaluated, requested=requested, day=date(2026, 12, 10)
    )
    assert (period.start, running) == (expected, in_progress)


def test_the_kpi_definitions_are_readable_in_the_admin(org, user):
    response = _lead(user).get("/admin/evaluations/evaluation/kpis/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="module kpi-definition"') == 11
    assert "docs/kpis.md" not in html
