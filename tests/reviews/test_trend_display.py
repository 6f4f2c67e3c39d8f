"""How a change against the previous period is shown: the arrow is the sign of the change, the colour
and the word say whether that is better for the KPI's direction, and a count is neither."""

import pytest
from django.utils import translation

from evaluations.models import Kpi
from evaluations.reviews.emails import _trend


@pytest.mark.parametrize(
    ("trend", "change", "unit", "arrow", "css"),
    [
        ("better", "-21.61", Kpi.Unit.MINUTES, "▼", "better"),  # less time to accept: down, and better
        ("worse", "25.00", Kpi.Unit.PERCENT, "▲", "worse"),  # bounce rate up: worse
        ("better", "4.00", Kpi.Unit.PERCENT, "▲", "better"),  # SLA rate up: better
        ("worse", "-12", Kpi.Unit.COUNT, "▼", "neutral"),  # fewer cases received: just a change
        ("same", "0", Kpi.Unit.PERCENT, "=", "same"),
        (None, None, Kpi.Unit.PERCENT, "", "none"),
    ],
)
def test_arrow_follows_the_sign_and_colour_the_direction(trend, change, unit, arrow, css):
    with translation.override("zh-hans"):
        shown = _trend(trend, change, unit)

    assert (shown["arrow"], shown["class"]) == (arrow, css)
    if css == "neutral":
        assert shown["label"] not in ("恶化", "改善")


def _card(name, grade, overall, evaluated=True, missed=0):
    return {
        "name": name,
        "grade": grade,
        "overall": overall,
        "previous": "—",
        "trend": {"class": "none", "arrow": "", "label": "—"},
        "missed": missed,
        "evaluated": evaluated,
        "breaches": 0,
        "escalated": 0,
    }


def test_the_review_email_summarises_and_leaves_out_departments_without_an_evaluation():
    from evaluations.reviews.emails import LINES_SHOWN, summary_context

    below = [{"department": f"D{i}", "kpi": "退回率", "value": "9%", "target": "5%"} for i in range(47)]
    context = {
        "scorecards": [
            _card("网点", "D", "61.2", missed=3),
            _card("客服中心", "A", "95.0"),
            _card("服务质量管理部", "—", "—", evaluated=False),
        ],
        "below_target": below,
        "open_actions": [],
        "more_actions": 0,
        "flow_bounce": [],
        "flow_slow": [],
    }

    summary = summary_context(context)

    assert [c["name"] for c in summary["attention"]] == ["网点"]
    assert summary["evaluated_count"] == 2 and summary["grade_counts"] == "A 1 · D 1"
    assert len(summary["below_shown"]) == LINES_SHOWN and summary["below_more"] == 47 - LINES_SHOWN
