"""Each KPI on a small fixture whose answer is worked out by hand (docs/kpis.md says why).

Both departments work round the clock, so a handoff's business seconds are its wall-clock seconds:
the response target is 10 minutes and the resolution target 60 minutes after the request. The same
tests run on SQLite and on PostgreSQL (CI runs the suite on both) and expect the same numbers.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from evaluations import kpis, services
from evaluations.models import Evaluation, Level, Scorecard, ScorecardCriterion

from .support import AFTER, T0, compute, local, value

D = Decimal
pytestmark = pytest.mark.django_db
MID_NOVEMBER = local(2026, 11, 20, 12)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# -- response SLA rate ------------------------------------------------------------------------------
def test_response_sla_rate_is_the_share_of_received_handoffs_accepted_within_target(world):
    # Given 10 handoffs received by the front, 7 accepted after 5 minutes and 3 after 15
    for i in range(10):
        case = world.open(T0 + timedelta(hours=i))
        world.accept(case, T0 + timedelta(hours=i) + minutes(5 if i < 7 else 15))
    # When November is computed
    compute()
    # Then 7 of 10 met the 10-minute golden response time
    assert value(world.front, "response_sla_rate") == (D("70.00"), 10)


def test_response_sla_rate_leaves_out_undecided_and_withdrawn_handoffs(world):
    met = world.open(T0)
    world.accept(met, T0 + minutes(5))
    late = world.open(T0 + timedelta(hours=1))
    world.accept(late, T0 + timedelta(hours=1) + minutes(20))
    world.open(T0 + timedelta(hours=2))  # never answered, due long before "now": missed
    world.open(MID_NOVEMBER - minutes(5))  # pending, due in 5 minutes: undecided
    withdrawn = world.open(T0 + timedelta(hours=3))
    world.cancel(withdrawn, T0 + timedelta(hours=3) + minutes(2))  # cancelled before any response

    compute(now=MID_NOVEMBER)

    # 3 decided (met, late, overdue), 1 met
    assert value(world.front, "response_sla_rate") == (D("33.33"), 3)
    # Volume counts what was received: all but the withdrawn one
    assert value(world.front, "volume") == (D("4"), 4)


def test_returning_a_pending_handoff_is_a_response_and_a_bounce(world):
    quick = world.at_back(T0, accept_after=None)
    world.give_back(quick, T0 + minutes(2 + 3))  # returned 3 minutes after it arrived
    slow = world.at_back(T0 + timedelta(hours=1), accept_after=None)
    world.give_back(slow, T0 + timedelta(hours=1) + minutes(2 + 30))
    world.at_back(T0 + timedelta(hours=2), accept_after=5)

    compute()

    assert value(world.back, "response_sla_rate") == (D("66.67"), 3)
    assert value(world.back, "bounce_rate") == (D("66.67"), 3)


# -- resolution SLA rate ----------------------------------------------------------------------------
def test_resolution_sla_rate_counts_completed_in_time_over_decided(world):
    for hour, done_after in [(0, 30), (1, 30), (2, 59), (3, 90)]:
        case = world.open(T0 + timedelta(hours=hour))
        world.accept(case, T0 + timedelta(hours=hour) + minutes(1))
        world.forward(case, T0 + timedelta(hours=hour) + minutes(done_after))
    overdue = world.open(T0 + timedelta(hours=4))
    world.accept(overdue, T0 + timedelta(hours=4) + minutes(1))  # still open an hour later: missed
    running = world.open(MID_NOVEMBER - minutes(20))
    world.accept(running, MID_NOVEMBER - minutes(19))  # due in 40 minutes: undecided

    compute(now=MID_NOVEMBER)

    # decided: 4 completed (3 in time, 1 late) + 1 overdue = 5; met 3
    assert value(world.front, "resolution_sla_rate") == (D("60.00"), 5)


def test_a_paused_clock_is_not_past_due(world):
    from processes import services as process_services

    case = world.at_back(T0)
    handoff = world.handoff(case)
    process_services.handoff_pause(handoff=handoff, actor=world.actor, cause="customer", at=T0 + minutes(5))

    compute(now=T0 + timedelta(days=2))

    # the back's handoff waits on the customer: no resolution verdict yet
    assert value(world.back, "resolution_sla_rate") == (None, 0)


# -- minutes to accept --------------------------------------------------------------------------------
def test_median_and_p90_minutes_to_accept_interpolate_like_percentile_cont(world):
    # Accepted after 1, 2, …, 10 minutes: 60 … 600 business seconds
    for i in range(10):
        case = world.open(T0 + timedelta(hours=i))
        world.accept(case, T0 + timedelta(hours=i) + minutes(i + 1))

    compute()

    # median: position 0.5 × 9 = 4.5 → (300 + 360) / 2 = 330 s = 5.50 min
    assert value(world.front, "median_minutes_to_accept") == (D("5.50"), 10)
    # p90: position 0.9 × 9 = 8.1 → 540 + 0.1 × (600 − 540) = 546 s = 9.10 min
    assert value(world.front, "p90_minutes_to_accept") == (D("9.10"), 10)


def test_percentiles_of_an_odd_count(world):
    for i, after in enumerate([1, 2, 3, 4, 10]):
        case = world.open(T0 + timedelta(hours=i))
        world.accept(case, T0 + timedelta(hours=i) + minutes(after))
    world.open(T0 + timedelta(hours=6))  # never accepted: not part of the percentiles

    compute()

    # median: position 2 → 180 s = 3.00; p90: position 3.6 → 240 + 0.6 × 360 = 456 s = 7.60
    assert value(world.front, "median_minutes_to_accept") == (D("3.00"), 5)
    assert value(world.front, "p90_minutes_to_accept") == (D("7.60"), 5)


def test_percentiles_of_a_single_handoff(world):
    case = world.open(T0)
    world.accept(case, T0 + minutes(7))

    compute()

    assert value(world.front, "median_minutes_to_accept") == (D("7.00"), 1)
    assert value(world.front, "p90_minutes_to_accept") == (D("7.00"), 1)


# -- bounce rate ----------------------------------------------------------------------------------------
def test_bounce_rate_is_returned_over_received_charged_to_the_returning_side(world):
    for i in range(3):
        world.at_back(T0 + timedelta(hours=i))
    bounced = world.at_back(T0 + timedelta(hours=5))
    world.give_back(bounced, T0 + timedelta(hours=5) + minutes(20))

    compute()

    assert value(world.back, "bounce_rate") == (D("25.00"), 4)
    # the front received 4 intakes and the returned case: 5, and returned none of them
    assert value(world.front, "bounce_rate") == (D("0.00"), 5)


# -- reopen rate ----------------------------------------------------------------------------------------
def test_reopen_rate_charges_reopenings_to_the_resolving_department(world):
    cases = [world.resolved_by_back(T0 + timedelta(hours=i)) for i in range(4)]
    world.reopen(cases[0], T0 + timedelta(days=2))
    december_reopen = cases[1]
    world.reopen(december_reopen, local(2026, 12, 1, 9))

    compute()
    compute(start=date(2026, 12, 1))

    # November: 4 resolved by the back, 1 reopened
    assert value(world.back, "reopen_rate") == (D("25.00"), 4)
    # the front resolved nothing: no reopen rate, rather than 0 %
    assert value(world.front, "reopen_rate") == (None, 0)
    # December: a reopening, but nothing resolved → no rate (the reopening stays on record)
    assert value(world.back, "reopen_rate", start=date(2026, 12, 1)) == (None, 0)


# -- repeat complaint rate ---------------------------------------------------------------------------------
def test_repeat_complaint_rate_is_the_share_of_cases_taken_in_flagged_as_repeats(world):
    # Given four cases taken in by the front in November: one customer calls three times
    for i, phone in enumerate(["13812345678", "13812345678", "+86 138 1234 5678", "13900001111"]):
        world.open(T0 + timedelta(hours=i), customer_phone=phone)
    # and once more in December
    world.open(local(2026, 12, 2, 9), customer_phone="13812345678")

    compute()
    compute(start=date(2026, 12, 1))

    # November: 2 of the 4 intakes were repeats
    assert value(world.front, "repeat_complaint_rate") == (D("50.00"), 4)
    # the back took nothing in: no rate rather than 0 %
    assert value(world.back, "repeat_complaint_rate") == (None, 0)
    # December: the one intake was within 30 days of the last: a repeat
    assert value(world.front, "repeat_complaint_rate", start=date(2026, 12, 1)) == (D("100.00"), 1)


# -- customer feedback ------------------------------------------------------------------------------------
def test_nps_and_csat_count_for_every_department_that_handled_the_case(world):
    nps = [9, 10, 9, 10, 9, 7, 8, 7, 0, 6]  # 5 promoters, 3 passives, 2 detractors
    csat = [5, 4, 4, 3] + [None] * 6
    for i, (n, c) in enumerate(zip(nps, csat, strict=True)):
        case = world.resolved_by_back(T0 + timedelta(hours=i))
        world.close(case, T0 + timedelta(hours=i, minutes=20))  # the front handled it twice
        world.feedback(case, survey=f"s-{i}", nps=n, csat=c)
    october = world.open(local(2026, 10, 20, 10))
    world.feedback(october, survey="old", csat=1, nps=0, at=local(2026, 10, 21, 10))

    compute()

    for department in (world.front, world.back):
        # (5 − 2) / 10 = 30
        assert value(department, "nps") == (D("30.00"), 10)
        # (5 + 4 + 4 + 3) / 4 = 4.00
        assert value(department, "csat_avg") == (D("4.00"), 4)


def test_feedback_counts_in_the_period_it_was_answered(world):
    case = world.resolved_by_back(T0)
    world.feedback(case, survey="dec", csat=2, at=local(2026, 12, 1, 0, 0))

    compute()
    compute(start=date(2026, 12, 1))

    assert value(world.back, "csat_avg") == (None, 0)
    assert value(world.back, "csat_avg", start=date(2026, 12, 1)) == (D("2.00"), 1)


def test_nps_can_be_negative(world):
    for i, n in enumerate([0, 3, 9]):
        case = world.resolved_by_back(T0 + timedelta(hours=i))
        world.feedback(case, survey=f"n{i}", nps=n)

    compute()

    # (1 − 2) / 3 = −33.33
    assert value(world.back, "nps") == (D("-33.33"), 3)


# -- QA inspection score -----------------------------------------------------------------------------------
@pytest.fixture
def scorecard(db) -> Scorecard:
    card = Scorecard.objects.create(
        code="qa", name="QA", weight_self=20, weight_department=30, weight_quality_office=50
    )
    ScorecardCriterion.objects.create(scorecard=card, code="all", name="all", weight=1, max_score=100)
    return card


def test_qa_score_weights_each_levels_mean_by_the_level_weight(world, scorecard):
    c1, c2 = (world.resolved_by_back(T0 + timedelta(hours=i)) for i in range(2))
    for case, level, points in [
        (c1, Level.SELF, 80),
        (c2, Level.SELF, 90),
        (c1, Level.DEPARTMENT, 70),
        (c1, Level.QUALITY_OFFICE, 60),
    ]:
        services.inspection_record(
            actor=world.actor,
            case=case,
            department=world.back,
            level=level,
            scorecard=scorecard,
            scores={"all": points},
            at=AFTER,
        )

    compute()

    # self mean 85, department 70, quality office 60 → (20 × 85 + 30 × 70 + 50 × 60) / 100 = 68
    assert value(world.back, "qa_score") == (D("68.00"), 4)
    assert value(world.front, "qa_score") == (None, 0)


def test_assigned_inspections_do_not_count_until_completed(world, scorecard):
    case = world.resolved_by_back(T0)
    services.inspection_assign(
        case=case, department=world.back, level=Level.SELF, scorecard=scorecard, actor=world.actor
    )

    compute()

    assert value(world.back, "qa_score") == (None, 0)


# -- volume, periods, no data ------------------------------------------------------------------------------
def test_period_boundaries_are_midnight_in_shanghai(world):
    world.open(local(2026, 10, 31, 23, 59, 59))
    world.open(local(2026, 11, 1, 0, 0, 0))
    world.open(local(2026, 11, 30, 23, 59, 59))
    world.open(local(2026, 12, 1, 0, 0, 0))

    for start in (date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)):
        compute(start=start)

    assert value(world.front, "volume", start=date(2026, 10, 1)) == (D("1"), 1)
    assert value(world.front, "volume") == (D("2"), 2)
    assert value(world.front, "volume", start=date(2026, 12, 1)) == (D("1"), 1)


def test_weekly_and_quarterly_periods(world):
    world.open(local(2026, 11, 1, 23))  # Sunday: the ISO week of Monday 26 October
    world.open(local(2026, 11, 2, 0))  # Monday 2 November
    world.open(local(2026, 11, 8, 23, 59))

    compute(kind="weekly", start=date(2026, 11, 2))
    compute(kind="quarterly", start=date(2026, 10, 1))

    assert value(world.front, "volume", kind="weekly", start=date(2026, 11, 2)) == (D("2"), 2)
    assert value(world.front, "volume", kind="quarterly", start=date(2026, 10, 1)) == (D("3"), 3)


def test_a_department_without_data_gets_no_score_rather_than_zero(world):
    from tests.factories import DepartmentFactory

    idle = DepartmentFactory(code="IDLE")
    world.open(T0)

    (evaluation,) = [e for e in compute() if e.department_id == idle.pk]

    assert evaluation.overall_score is None
    assert evaluation.grade == ""
    rows = list(evaluation.scores.all())
    assert len(rows) == 11
    assert all(s.value is None and s.sample_size == 0 and s.met is None and s.points is None for s in rows)


def test_an_empty_period_computes_without_error(world):
    evaluations = compute(start=date(2030, 1, 1))

    assert {e.department_id for e in evaluations} == {world.front.pk, world.back.pk}
    assert all(e.overall_score is None for e in evaluations)


# -- scoring ---------------------------------------------------------------------------------------------------
def test_overall_score_renormalises_weights_over_kpis_with_data(world):
    from .support import only_kpis

    only_kpis(
        "response_sla_rate", "bounce_rate", "csat_avg", response_sla_rate=20, bounce_rate=10, csat_avg=10
    )
    for i in range(10):
        case = world.open(T0 + timedelta(hours=i))
        world.accept(case, T0 + timedelta(hours=i) + minutes(5 if i < 7 else 15))

    compute()

    evaluation = Evaluation.objects.get(department=world.front)
    scores = {s.kpi_code: s for s in evaluation.scores.all()}
    # response 70 % of a 95 % target: 73.68 points, not met; bounce 0 % ≤ 5 %: 100 points, met
    assert (scores["response_sla_rate"].points, scores["response_sla_rate"].met) == (D("73.68"), False)
    assert (scores["bounce_rate"].points, scores["bounce_rate"].met) == (D("100.00"), True)
    # CSAT has no data: left out, and the weights renormalised over 20 + 10
    assert scores["csat_avg"].points is None
    # (20 × 73.68 + 10 × 100) / 30 = 82.45 → B
    assert (evaluation.overall_score, evaluation.grade) == (D("82.45"), "B")
    assert set(scores) == {"response_sla_rate", "bounce_rate", "csat_avg"}


@pytest.mark.parametrize(
    ("value_", "target", "direction", "expected"),
    [
        ("70", "95", "higher", "0.7368"),
        ("99", "95", "higher", "1"),
        ("-10", "30", "higher", "0"),
        ("10", "0", "higher", "1"),
        ("-5", "0", "higher", "0"),
        ("10", "5", "lower", "0.5"),
        ("3", "5", "lower", "1"),
        ("120", "60", "lower", "0.5"),
        ("5", "0", "lower", "0"),
    ],
)
def test_attainment(value_, target, direction, expected):
    result = kpis.attainment(D(value_), D(target), direction)
    assert result.quantize(D("0.0001")) == D(expected).quantize(D("0.0001"))


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (None, ""),
        (D("100"), "A"),
        (D("90"), "A"),
        (D("89.99"), "B"),
        (D("80"), "B"),
        (D("70"), "C"),
        (D("69.99"), "D"),
        (D("0"), "D"),
    ],
)
def test_grades(score, grade):
    assert kpis.grade(score) == grade
