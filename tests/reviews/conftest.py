import pytest

from tests.support import ensure_builtin_kpis

from .support import ReviewWorld


@pytest.fixture(autouse=True)
def _builtin_kpis(request):
    ensure_builtin_kpis(request)


@pytest.fixture
def world(db) -> ReviewWorld:
    return ReviewWorld()


@pytest.fixture
def no_kick(monkeypatch):
    """Deliveries are left to explicit runs of the outbox (the after-commit kick would send at once)."""
    monkeypatch.setattr("processes.notifications.kick_delivery", lambda *args, **kwargs: None)
