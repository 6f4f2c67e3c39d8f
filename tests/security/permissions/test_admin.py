"""The admin: every page and every case-page action, per role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.security.permissions.support import (
    action_data,
    admin_url,
    case_counts,
    case_page,
    described,
    isolated,
    leaks,
    matches,
)
from tests.security.permissions.tables import ADMIN, CASE_ACTIONS

# Every test is a savepoint inside the module's seeded transaction (pytest-django supports wrapping
# tests in a higher-scoped transaction); the marker also makes pytest-django create the test database.
pytestmark = pytest.mark.django_db


# ====================================================================================================
# The admin
# ====================================================================================================
@pytest.mark.parametrize("name", sorted(ADMIN))
def test_admin_page(world, name):
    url = admin_url(name, world)
    problems = []
    expectations = {**ADMIN[name], "anon": "login", "token": "login"}
    if name == "login":
        expectations.update(anon="200", token="200")
    for role, expected in expectations.items():
        with isolated():
            response = world.clients[role].get(url)
        if not matches(expected, response, case_url=case_page(world)):
            problems.append(f"{role}: expected {expected}, got {described(response)}")
        if leaked := leaks(response, world, role):
            problems.append(f"{role}: the page shows what {role} must not see: {leaked}")
    assert not problems, f"GET {url}\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("action", sorted(CASE_ACTIONS))
def test_admin_case_page_action(world, action):
    url = reverse("admin:processes_case_action", args=[world.cases["A"].pk, action])
    data = action_data(action, world)
    problems = []
    expectations = {**CASE_ACTIONS[action], "anon": "login", "token": "login"}
    for role, expected in expectations.items():
        with isolated():
            before = case_counts(world.cases["A"])
            response = world.clients[role].post(url, data)
            after = case_counts(world.cases["A"])
        if not matches(expected, response, case_url=case_page(world)):
            problems.append(f"{role}: expected {expected}, got {described(response)}")
        if expected != "ok" and before != after:
            problems.append(f"{role}: refused, yet the case, its handoffs or its timeline changed")
    assert not problems, f"POST {url} {data}\n  " + "\n  ".join(problems)
