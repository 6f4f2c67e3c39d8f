"""The API: every method of every endpoint, per role, and the lists' scopes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from departments.models import Department
from tests.security.permissions.support import (
    api_call,
    body_text,
    case_counts,
    described,
    isolated,
    leaks,
)
from tests.security.permissions.tables import (
    ADMIN_ROLES,
    API,
    EXPORT_SCOPE,
    FLOW_SCOPE,
    LIST_SCOPE,
    OTHER_METHODS,
    REVIEW_SCOPE,
    VISIBLE_CASES,
)
from tests.security.permissions.world import World

# Every test is a savepoint inside the module's seeded transaction (pytest-django supports wrapping
# tests in a higher-scoped transaction); the marker also makes pytest-django create the test database.
pytestmark = pytest.mark.django_db


# ====================================================================================================
# The API
# ====================================================================================================
@pytest.mark.parametrize(("method", "path"), sorted(API), ids=[f"{m} {p}" for m, p in sorted(API)])
def test_api_endpoint(world, method, path):
    problems = []
    for role, expected in API[(method, path)].items():
        with isolated():
            before = case_counts(world.cases["A"])
            response = api_call(world.clients[role], method, path, world)
            after = case_counts(world.cases["A"])
        if response.status_code != int(expected):
            problems.append(
                f"{role}: expected {expected}, got {described(response)} {body_text(response)[:200]}"
            )
        if leaked := leaks(response, world, role):
            problems.append(f"{role}: the answer shows what {role} must not see: {leaked}")
        if method != "GET" and response.status_code >= 400 and before != after:
            problems.append(f"{role}: refused with {response.status_code}, yet the case changed")
    assert not problems, f"{method} {path}\n  " + "\n  ".join(problems)


def test_api_other_methods_are_not_allowed(world):
    problems = []
    for path in sorted({path for _method, path in API}):
        listed = {method for method, p in API if p == path}
        for method in OTHER_METHODS:
            if method in listed:
                continue
            for role in ("officer", "auditor"):
                with isolated():
                    response = api_call(world.clients[role], method, path, world)
                if response.status_code != 405:
                    problems.append(f"{role} {method} {path}: expected 405, got {described(response)}")
    assert not problems, "\n".join(problems)


def _listed(response, list_name: str, w: World) -> set[str]:
    rows = response.json()["results"]
    names = {case.reference: key for key, case in w.cases.items()}
    seeded = {"inspections": "I", "reviews": "R", "actions": "X"}
    if list_name == "departments":
        return {row["code"] for row in rows}
    if list_name == "evaluations":
        return {row["department"] for row in rows}
    if list_name == "cases":
        return {names.get(row["reference"], row["reference"]) for row in rows}
    if list_name == "handoffs":
        return {names.get(row["case"], row["case"]) for row in rows}
    key = seeded[list_name]
    return {key if row["id"] == w.ids[key] else str(row["id"]) for row in rows}


def test_lists_show_exactly_their_scope(world):
    everything = set(Department.objects.values_list("code", flat=True))
    problems = []
    for list_name, row in LIST_SCOPE.items():
        for role, cell in row.items():
            expected = everything if cell == "*" else set() if cell == "-" else set(cell.split(","))
            response = world.clients[role].get(f"/api/v1/{list_name}/?page_size=200")
            assert response.status_code == 200, (role, list_name, described(response))
            shown = _listed(response, list_name, world)
            if shown != expected:
                problems.append(
                    f"/api/v1/{list_name}/ as {role}: expected {sorted(expected)}, shown {sorted(shown)}"
                )
    # Department-level data, which the leak search (references, customers) cannot tell apart.
    for role, expected in FLOW_SCOPE.items():
        response = api_call(world.clients[role], "GET", "/api/v1/analytics/handoff-flow/", world)
        shown = {f"{c['from_department'] or 'intake'}>{c['to_department']}" for c in response.json()["cells"]}
        if shown != expected:
            problems.append(f"handoff flow as {role}: expected {sorted(expected)}, shown {sorted(shown)}")
    for role, expected in REVIEW_SCOPE.items():
        response = api_call(world.clients[role], "GET", "/api/v1/reviews/{review_id}/", world)
        body = response.json() if response.status_code == 200 else {}
        shown = set(body.get("departments", [])) | set(body.get("findings", {}).get("departments", []))
        if shown != expected:
            problems.append(
                f"review departments as {role}: expected {sorted(expected)}, shown {sorted(shown)}"
            )
    export = reverse("admin:evaluations_evaluation_export", args=["csv"])
    for role, expected in EXPORT_SCOPE.items():
        lines = body_text(world.clients[role].get(export)).lstrip("\ufeff").splitlines()[1:]
        shown = {line.split(",", 1)[0] for line in lines if line}
        expected = everything if expected == {"*"} else expected
        if shown != expected:
            problems.append(
                f"evaluation export as {role}: expected {sorted(expected)}, shown {sorted(shown)}"
            )
    # The admin's case list and queue, as each department's staff see them.
    queue = {
        "agent": {"A"},
        "lead": {"A"},
        "other": set(),
        "officer": {"A", "B", "C"},
        "auditor": {"A", "B", "C"},
    }
    for role in ADMIN_ROLES:
        cases = body_text(world.clients[role].get(reverse("admin:processes_case_changelist")))
        waiting = body_text(world.clients[role].get(reverse("admin:processes_handoff_changelist")))
        for key, case in world.cases.items():
            if (case.reference in cases) != (key in VISIBLE_CASES[role]):
                problems.append(f"admin case list as {role}: {key} shown={case.reference in cases}")
            if (case.reference in waiting) != (key in queue[role]):
                problems.append(f"admin queue as {role}: {key} shown={case.reference in waiting}")
    assert not problems, "\n".join(problems)
