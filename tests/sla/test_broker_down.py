"""Broker down: actions still succeed, their e-mails wait in the outbox, and once delivery runs again
(beat's `deliver_notifications`, i.e. `deliver_due`) every one goes out exactly once."""

from __future__ import annotations

import logging
import time
from collections import Counter
from contextlib import contextmanager

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from config.celery_app import app
from departments.api_keys import api_key_issue
from processes import services
from processes.models import Case, Notification
from processes.outbox import deliver_due
from tests.support import addressed

from .conftest import CUSTOMER_NAME, CUSTOMER_PHONE, open_handoff, sent_keys

pytestmark = pytest.mark.django_db
# Nothing listens on port 1: the connection is refused at once, as with a stopped Redis.
REFUSING_BROKER = "redis://127.0.0.1:1/0"
# The after-commit kick makes one bounded connection attempt (processes.notifications.kick_delivery).
KICK_SECONDS_MAX = 2.0


def _forget_broker_connections() -> None:
    """Celery keeps its publishing pools per app; drop them as a fork does, so the next publish
    connects to the broker URL in force now."""
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_at(url: str):
    """Publish for real (not eagerly) to `url` within the block; restore the test settings after."""
    saved = app.conf.task_always_eager, app.conf.broker_url
    _forget_broker_connections()
    app.conf.task_always_eager, app.conf.broker_url = False, url
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        _forget_broker_connections()


def test_with_the_broker_down_actions_succeed_and_their_emails_are_delivered_once_it_is_back(
    django_capture_on_commit_callbacks, user, caplog
):
    caplog.set_level(logging.WARNING, logger="processes.notifications")
    caplog.set_level(logging.WARNING, logger="processes.webhooks.delivery")
    agent, card_agent = user("call_center_agent"), user("card_center_agent")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_issue(username=agent.username).key}")
    kicks: list[float] = []

    @contextmanager
    def committed():
        """The block's after-commit callbacks run at its end, as on a real commit; time them."""
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            yield
        for callback in callbacks:
            started = time.monotonic()
            callback()  # kick_delivery: tries the broker, must neither raise nor hang
            kicks.append(time.monotonic() - started)

    # Given the broker refuses connections
    with broker_at(REFUSING_BROKER):
        # When a case is opened through the API, accepted, forwarded and returned
        with committed():
            response = client.post(
                "/api/v1/cases/",
                {
                    "process": "COMPLAINT",
                    "title": "信用卡年费争议",
                    "channel": "phone",
                    "customer_name": CUSTOMER_NAME,
                    "customer_phone": CUSTOMER_PHONE,
                },
                format="json",
            )
        assert response.status_code == 201, response.content
        case = Case.objects.get(reference=response.json()["reference"])
        with committed():
            services.handoff_accept(handoff=open_handoff(case), actor=agent)
        with committed():
            services.case_forward(case=case, to_stage="INVESTIGATE_CARD", actor=agent)
        with committed():
            services.handoff_return(handoff=open_handoff(case), actor=card_agent, reason="Lending product")

    # Then every action succeeded and every kick failed fast, logged, without raising
    case.refresh_from_db()
    assert case.current_department.code == "CALL_CENTER"
    # Opened, forwarded and returned had e-mails to tell (the return and the handoff requested back
    # are written, and kicked, together): one kick each, which asks for both deliveries. The
    # acceptance wrote events only, which webhooks follow, and no subscription is active: no kick.
    assert len(kicks) == 3, kicks
    assert max(kicks) < KICK_SECONDS_MAX, kicks
    refused = [r for r in caplog.records if "could not reach the broker" in r.getMessage()]
    assert len(refused) == 3
    assert all("127.0.0.1:1" in r.getMessage() for r in refused)
    # And the e-mails wait in the outbox, none sent
    rows = addressed(timezone.now()).filter(case=case)
    assert Counter(rows.values_list("kind", flat=True)) == {
        Notification.Kind.HANDOFF_ARRIVED: 2 + 2 + 2,  # call center, card center, call center again
        Notification.Kind.RETURNED: 1,  # the call center agent who forwarded it
    }
    assert set(rows.values_list("status", "attempts")) == {(Notification.Status.PENDING, 0)}
    assert mail.outbox == []

    # When the broker is back and beat's delivery runs
    sent, failed = deliver_due()

    # Then each e-mail went out exactly once; a second run sends nothing
    assert (sent, failed) == (7, 0)
    assert Counter(sent_keys()) == dict.fromkeys(rows.values_list("dedup_key", flat=True), 1)
    assert set(rows.values_list("status", flat=True)) == {Notification.Status.SENT}
    assert deliver_due() == (0, 0)
    assert len(mail.outbox) == 7
    print(f"kicks with the broker down took {', '.join(f'{k:.3f}' for k in kicks)} s")


def test_the_test_settings_are_restored_after_the_broker_is_faked_down():
    with broker_at(REFUSING_BROKER):
        assert app.conf.task_always_eager is False
    assert app.conf.task_always_eager is True
    assert app.conf.broker_url != REFUSING_BROKER
