import pytest
from django.conf import settings


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.postgres` tests need real row locks; on SQLite they are skipped (CI runs both)."""
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def demo_org(db):
    """The demo organisation of SPEC section 7 (departments, calendars with 2026 holidays, users)."""
    from departments.demo import seed_organisation

    return seed_organisation()


# The SMTP server fixture of the real-worker integration tests (tests/sla, tests/reviews).
from tests.real_worker import smtp_server  # noqa: E402, F401
