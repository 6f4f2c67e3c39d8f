import os
from datetime import UTC, date, datetime

import pytest
from django.conf import settings

CLOCK_ENV = "BATON_TEST_CLOCK"


def pytest_addoption(parser):
    parser.addoption(
        "--clock",
        default=os.environ.get(CLOCK_ENV, ""),
        help=f"Run the whole session with the clock moved to this date or ISO datetime (ticking), e.g. "
        f"2031-01-01; also ${CLOCK_ENV}. A date alone keeps the real time of day.",
    )


def _moved_clock(value: str) -> datetime:
    """The instant a session starts at: a full ISO datetime as given (UTC unless it has an offset), or
    a date at the real UTC time of day, so that repeated runs also cover different hours."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise pytest.UsageError(
                f"--clock / {CLOCK_ENV}: not an ISO date or datetime: {value!r}"
            ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    real = datetime.now(UTC)
    return datetime.combine(day, real.time(), tzinfo=UTC)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Move the process clock for the whole session (before the test database exists), so that a test
    relying on today's real date fails now instead of on the day the calendar reaches its data.
    Tests that travel themselves (time_machine) stack on top of this and return to it."""
    value = config.getoption("clock")
    if not value:
        return
    import time_machine

    moment = _moved_clock(value)
    traveller = time_machine.travel(moment, tick=True)
    traveller.start()
    config.add_cleanup(traveller.stop)
    config._baton_clock = moment


def pytest_terminal_summary(terminalreporter, config):
    """Say so at the end (also with -q): a failure may only happen with the clock moved."""
    moment = getattr(config, "_baton_clock", None)
    if moment is not None:
        terminalreporter.write_line(
            f"The clock was moved to {moment.isoformat(timespec='seconds')} ({CLOCK_ENV})."
        )


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
    """The demo organisation (departments, calendars with 2026 holidays, users)."""
    from departments.demo import seed_organisation

    return seed_organisation()


@pytest.fixture
def org(demo_org):
    """The demo organisation plus its four demo processes: `org.departments`, `org.processes` (by code).
    tests/processes overrides it with the same data seeded once per session."""
    from types import SimpleNamespace

    from processes.demo import seed_processes

    return SimpleNamespace(departments=demo_org, processes=seed_processes())


@pytest.fixture
def user(org):
    """`user("card_center_agent")`: a demo user fetched fresh (no permission or department cache)."""
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
            keys[username] = api_key_issue(username=username).key
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {keys[username]}")
        return c

    return client


# The SMTP server fixture of the real-worker integration tests (tests/sla, tests/reviews).
from tests.real_worker import smtp_server  # noqa: E402, F401
