"""After-commit nudges on a real Redis broker: many commits while a delivery task waits in the queue
publish no second one; once that task has started, the next commit publishes again, so no row waits
for beat. A publish that fails leaves nothing behind that would hold the next nudge back."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings

from processes import nudges, services
from processes.models import Case
from processes.tasks import deliver_notifications
from tests.real_worker import redis_url

from .test_broker_down import broker_at

pytestmark = pytest.mark.django_db
REDIS_DB = 8  # a database of its own: the test flushes it


@pytest.fixture
def broker():
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (set REDIS_URL)")
    url = redis_url(REDIS_DB)
    client = redis.Redis.from_url(url)
    client.flushdb()
    with broker_at(url):
        yield client
    client.flushdb()


def _queued(client: redis.Redis) -> list[str]:
    """The names of the tasks waiting in the default queue."""
    import json

    return [json.loads(raw)["headers"]["task"] for raw in client.lrange("celery", 0, -1)]


def _open(org, user, n: int, capture) -> Case:
    with capture(execute=True):
        case, _ = services.case_open(
            process=org.processes["COMPLAINT"],
            title=f"年费争议 {n}",
            channel="phone",
            actor=user("call_center_agent"),
            customer_name="张小三",
            customer_phone="13812345678",
        )
    return case


def test_commits_while_a_delivery_waits_publish_no_second_one(
    broker, org, user, django_capture_on_commit_callbacks
):
    for n in range(5):
        _open(org, user, n, django_capture_on_commit_callbacks)

    assert _queued(broker) == [deliver_notifications.name]

    # When the worker starts that task (it clears the flag before it selects its rows)
    deliver_notifications.apply()
    broker.delete("celery")  # the worker took the message
    _open(org, user, 5, django_capture_on_commit_callbacks)

    # Then the next commit nudges again
    assert _queued(broker) == [deliver_notifications.name]


def test_a_nudge_that_failed_to_publish_holds_back_no_later_one(
    broker, org, user, django_capture_on_commit_callbacks, monkeypatch
):
    def refused(*args, **kwargs):
        raise ConnectionError("the broker went away mid-publish")

    with monkeypatch.context() as patched:
        patched.setattr(deliver_notifications, "apply_async", refused)
        _open(org, user, 0, django_capture_on_commit_callbacks)

    assert _queued(broker) == []
    assert broker.exists(nudges._flag(deliver_notifications)) == 0
    _open(org, user, 1, django_capture_on_commit_callbacks)
    assert _queued(broker) == [deliver_notifications.name]
