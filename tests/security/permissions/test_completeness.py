"""The matrix stays complete: every admin page, case-page action and API endpoint has its row."""

from __future__ import annotations

import json

import pytest
from django.contrib import admin
from django.urls import URLResolver, get_resolver

from processes.forms import ACTION_FORMS
from tests.security.permissions.support import admin_url_names, api_endpoints_from_urls, described
from tests.security.permissions.tables import ADMIN, API, CASE_ACTIONS, NOT_PAGES, PUBLIC

# Every test is a savepoint inside the module's seeded transaction (pytest-django supports wrapping
# tests in a higher-scoped transaction); the marker also makes pytest-django create the test database.
pytestmark = pytest.mark.django_db


# ====================================================================================================
# The matrix stays complete
# ====================================================================================================
def test_the_matrix_knows_every_admin_page(world):
    names = admin_url_names()
    # "name:variant" rows ask one URL name several ways (app_list rows are names of their own here).
    rows = {row if row.startswith("app_list:") else row.split(":", 1)[0] for row in ADMIN}
    unknown = sorted(names - rows - NOT_PAGES)
    assert not unknown, (
        f"admin pages the permissions matrix does not know (give each a row in ADMIN): {unknown}"
    )
    stale = sorted(rows - names - {"catch_all"})
    assert not stale, f"rows of ADMIN for pages that no longer exist: {stale}"
    without_object = sorted(
        model._meta.label_lower
        for model in admin.site._registry
        if model._meta.label_lower not in world.objects
    )
    assert not without_object, (
        f"registered models with no object for their change pages in _seed: {without_object}"
    )
    actions = set(ACTION_FORMS)
    assert actions == set(CASE_ACTIONS), (
        f"case-page actions missing from CASE_ACTIONS: {sorted(actions - set(CASE_ACTIONS))}; "
        f"rows for actions that no longer exist: {sorted(set(CASE_ACTIONS) - actions)}"
    )


def test_the_matrix_knows_every_api_endpoint(world):
    from_urls = api_endpoints_from_urls()
    response = world.clients["anon"].get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    from_schema = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    known = set(API)
    unknown = sorted(from_urls - known) + sorted(from_schema - from_urls - known)
    assert not unknown, (
        "API endpoints the permissions matrix does not know (give each a row in API): "
        + ", ".join(f"{m} {p}" for m, p in unknown)
    )
    stale = sorted(known - from_urls)
    assert not stale, f"rows of API for endpoints that no longer exist: {stale}"


def test_every_other_url_of_the_site_is_public_and_known(world):
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route not in ("admin/", "api/v1/"):  # the two tables above
                    walk(pattern.url_patterns, route)
            else:
                routes.append(route)

    walk(get_resolver().url_patterns, "")
    unknown = sorted(set(routes) - set(PUBLIC))
    assert not unknown, (
        f"URLs outside /admin/ and /api/v1/ the matrix does not know (add them to PUBLIC): {unknown}"
    )
    anonymous = world.clients["anon"]
    for route, (method, statuses) in PUBLIC.items():
        response = anonymous.get(f"/{route}") if method == "GET" else anonymous.post(f"/{route}", {})
        assert response.status_code in statuses, (route, described(response))
