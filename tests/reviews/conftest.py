import pytest

from .support import ReviewWorld


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
def world(db) -> ReviewWorld:
    return ReviewWorld()


@pytest.fixture
def no_kick(monkeypatch):
    """Deliveries are left to explicit runs of the outbox (the after-commit kick would send at once)."""
    monkeypatch.setattr("processes.notifications.kick_delivery", lambda *args, **kwargs: None)
