"""Every factory of tests/factories.py makes a row that passes its model's own validation."""

from __future__ import annotations

import pytest

from tests import factories

FACTORIES = [
    factories.UserFactory,
    factories.CalendarFactory,
    factories.DepartmentFactory,
    factories.MembershipFactory,
    factories.ServiceProcessFactory,
    factories.StageFactory,
    factories.StageTargetFactory,
    factories.TransitionFactory,
    factories.ScorecardFactory,
    factories.ScorecardCriterionFactory,
    factories.ReviewCycleFactory,
]


@pytest.mark.django_db
@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_each_factory_makes_a_valid_row(factory):
    row = factory()
    row.full_clean()
    assert type(row)._default_manager.filter(pk=row.pk).exists()


@pytest.mark.django_db
def test_a_transition_stays_within_its_process():
    transition = factories.TransitionFactory()
    assert transition.from_stage.process_id == transition.to_stage.process_id == transition.process_id
