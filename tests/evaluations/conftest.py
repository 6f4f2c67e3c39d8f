import pytest

from tests.support import ensure_builtin_kpis

from .support import World


@pytest.fixture(autouse=True)
def _builtin_kpis(request):
    ensure_builtin_kpis(request)


@pytest.fixture
def world(db) -> World:
    return World()


# -- the demo organisation, its users and token clients (for scope, API and admin tests) -------------
@pytest.fixture
def demo_story(org, user):
    """Demo complaints built through the services: `demo_story.resolved()`, `demo_story.closed()`."""
    from .support import DemoStory

    return DemoStory(org, user)
