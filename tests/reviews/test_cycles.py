"""Review cycles are the quality office's: bad settings are refused with a stable code each."""

from __future__ import annotations

from datetime import date, time

import pytest

from core.errors import InvalidInput, PermissionDenied
from evaluations.models import Scorecard
from evaluations.reviews import services as reviews
from evaluations.reviews.models import ReviewCycle

from .support import sh

pytestmark = pytest.mark.django_db
NOW = sh(2026, 11, 15)


def refused(world, **fields) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        world.cycle(now=NOW, **fields)
    assert not ReviewCycle.objects.exists()
    return caught.value


def test_a_cycle_with_no_departments_is_refused(world):
    error = refused(world, all_departments=False, departments=[])
    assert error.code == "cycle_without_departments"
    assert list(error.extra["fields"]) == ["departments"]

    # Chosen departments that are all inactive are no departments either
    world.other.is_active = False
    world.other.save(update_fields=["is_active"])
    assert refused(world, departments=[world.other]).code == "cycle_without_departments"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"kind": "monthly", "run_day": 29}, "invalid_run_day", "run_day"),
        ({"kind": "weekly", "run_day": 8}, "invalid_run_day", "run_day"),
        ({"kind": "daily"}, "unknown_period", "kind"),
        ({"run_time": "08:00"}, "invalid_run_time", "run_time"),
        ({"name": "  "}, "name_required", "name"),
        ({"extra_recipients": "board@bank.example, not-an-address"}, "invalid_email", "extra_recipients"),
        ({"inspection_sample_size": 3, "chair": "officer"}, "scorecard_required", "inspection_scorecard"),
        ({"inspection_sample_size": 101}, "invalid", "inspection_sample_size"),
    ],
)
def test_bad_cycle_settings_are_refused(world, fields, code, field):
    if fields.get("chair") == "officer":
        fields = {**fields, "chair": world.officer}
    error = refused(world, **fields)
    assert error.code == code
    assert field in error.extra["fields"]


def test_sampling_needs_a_chair_who_may_sample(world):
    scorecard = Scorecard.objects.create(code="RV_QA", name="QA")
    error = refused(world, inspection_sample_size=2, inspection_scorecard=scorecard, chair=world.back_lead)
    assert error.code == "chair_cannot_sample"


def test_several_bad_settings_are_named_at_once(world):
    error = refused(world, name="", all_departments=False, departments=[])
    assert error.code == "invalid"
    assert set(error.extra["fields"]) == {"name", "departments"}


def test_only_the_quality_office_administers_cycles(world):
    with pytest.raises(PermissionDenied) as caught:
        reviews.review_cycle_create(actor=world.back_lead, name="mine", kind="monthly", now=NOW)
    assert caught.value.code == "cannot_administer_cycles"


def test_extra_recipients_are_kept_one_per_line_without_duplicates(world):
    cycle = world.cycle(
        now=NOW, extra_recipients="a@bank.example, B@bank.example;b@bank.example\nc@bank.example"
    )
    assert cycle.extra_recipients == "a@bank.example\nB@bank.example\nc@bank.example"


def test_switching_a_cycle_back_on_schedules_it_from_then_without_catching_up(world):
    cycle = world.cycle(now=NOW)
    cycle = reviews.review_cycle_update(cycle=cycle, actor=world.officer, is_active=False, now=NOW)
    assert reviews.review_cycle_run_due(now=sh(2027, 3, 1, 9)).reviews == []

    cycle = reviews.review_cycle_update(cycle=cycle, actor=world.officer, is_active=True, now=sh(2027, 3, 10))
    assert (cycle.next_period_start, cycle.next_run_at) == (date(2027, 3, 1), sh(2027, 4, 1, 8))
    # Turning 'all departments' off needs departments of its own
    with pytest.raises(InvalidInput) as caught:
        reviews.review_cycle_update(cycle=cycle, actor=world.officer, departments=[], now=sh(2027, 3, 10))
    assert caught.value.code == "cycle_without_departments"
    cycle = reviews.review_cycle_update(
        cycle=cycle,
        actor=world.officer,
        all_departments=True,
        departments=[],
        run_time=time(7),
        now=sh(2027, 3, 10),
    )
    assert (cycle.all_departments, list(cycle.departments.all()), cycle.next_run_at) == (
        True,
        [],
        sh(2027, 4, 1, 7),
    )
