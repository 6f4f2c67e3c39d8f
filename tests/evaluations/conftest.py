import pytest

from .support import World


@pytest.fixture(autouse=True)
def _builtin_kpis(request):
    """The built-in KPIs come from a data migration, and a transactional test anywhere in the suite
    flushes them: put back whatever is missing before each database test of this package."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    from evaluations.services import kpi_ensure_defaults

    kpi_ensure_defaults()


@pytest.fixture
def world(db) -> World:
    return World()


# -- the demo organisation, its users and token clients (for scope, API and admin tests) -------------
@pytest.fixture
def org(demo_org):
    from types import SimpleNamespace

    from processes.demo import seed_processes

    return SimpleNamespace(departments=demo_org, processes=seed_processes())


@pytest.fixture
def user(org):
    from django.contrib.auth import get_user_model

    def get(username: str):
        return get_user_model().objects.get(username=username)

    return get


@pytest.fixture
def api(user):
    """`api("card_center_lead")`: a client sending that user's token, as an integration does."""
    from rest_framework.test import APIClient

    from departments.api_keys import api_key_issue

    keys: dict[str, str] = {}

    def client(username: str) -> APIClient:
        if username not in keys:
            user(username)  # an unknown name fails here, as before
            keys[username] = api_key_issue(username=username).key
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {keys[username]}")
        return c

    return client


@pytest.fixture
def demo_story(org, user):
    """Demo complaints built through the services: `demo_story.resolved()`, `demo_story.closed()`."""
    from .support import DemoStory

    return DemoStory(org, user)
