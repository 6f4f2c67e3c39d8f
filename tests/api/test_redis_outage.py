"""Redis unreachable (it is both the throttle's cache and the broker): the API keeps answering, its
changes write their notifications to the outbox, and once Redis is back delivery sends each one once.

Nothing listens on port 1, so connections are refused at once, as with a stopped Redis; the shared
Redis server of the machine is left alone.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from config.celery_app import app
from processes.models import Handoff, Notification
from processes.outbox import deliver_due

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@contextmanager
def redis_down():
    """The cache and the broker both at a port that refuses connections, publishing for real."""
    saved = app.conf.task_always_eager, app.conf.broker_url
    app._pool = app.amqp._producer_pool = None
    app.conf.task_always_eager, app.conf.broker_url = False, UNREACHABLE_REDIS
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": UNREACHABLE_REDIS}
    }
    try:
        with override_settings(CACHES=caches):
            yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        app._pool = app.amqp._producer_pool = None


def _case_life(api, calls: list[tuple[str, int]], n: int) -> None:
    """Ten calls of reads and writes, as the CRM and a department's tool make them."""
    intake, card = api("call_center_agent"), api("card_center_agent")

    def record(label, response):
        calls.append((label, response.status_code))
        return response

    opened = record(
        "open",
        intake.post(
            "/api/v1/cases/",
            {
                "process": "COMPLAINT",
                "title": f"年费争议 {n}",
                "channel": "phone",
                "customer_name": "张小三",
                "customer_phone": "13812345678",
                "source": "crm",
                "external_id": f"CRM-OUTAGE-{n}",
            },
            format="json",
        ),
    )
    reference = opened.json()["reference"]
    handoff = opened.json()["open_handoff"]["id"]
    record("detail", intake.get(f"/api/v1/cases/{reference}/"))
    record("accept", intake.post(f"/api/v1/handoffs/{handoff}/accept/"))
    record(
        "forward",
        intake.post(
            f"/api/v1/cases/{reference}/forward/",
            {"to_stage": "INVESTIGATE_CARD", "note": "请核查"},
            format="json",
        ),
    )
    record("queue", card.get("/api/v1/handoffs/?department=CARD_CENTER&status=pending"))
    at_card = Handoff.objects.get(case__reference=reference, status=Handoff.Status.PENDING).pk
    record("accept card", card.post(f"/api/v1/handoffs/{at_card}/accept/"))
    record(
        "comment", card.post(f"/api/v1/cases/{reference}/comments/", {"text": "已联系客户"}, format="json")
    )
    record("events", card.get(f"/api/v1/cases/{reference}/events/"))
    record("list", intake.get("/api/v1/cases/?status=open"))
    record("departments", card.get("/api/v1/departments/"))


def test_with_redis_unreachable_the_api_answers_and_notifications_go_out_once_it_is_back(
    api, org, django_capture_on_commit_callbacks
):
    calls: list[tuple[str, int]] = []

    # Given Redis is unreachable, when 100 mixed API calls are made (after-commit kicks run, and fail)
    with redis_down(), django_capture_on_commit_callbacks(execute=True):
        for n in range(10):
            _case_life(api, calls, n)

    # Then none answered 5xx, and every one did what it was asked
    assert len(calls) == 100
    assert [c for c in calls if c[1] >= 500] == []
    assert {status for _, status in calls} <= {200, 201}, Counter(calls)
    assert mail.outbox == []
    waiting = Notification.objects.count() or None  # addressed at delivery, so none before it

    # When Redis is back and beat's delivery runs
    sent, failed = deliver_due(now=timezone.now())

    # Then every notification of those changes went out exactly once; a second run sends nothing
    rows = Notification.objects.all()
    assert failed == 0
    assert sent == rows.count() > 0
    assert waiting is None
    assert set(rows.values_list("status", flat=True)) == {Notification.Status.SENT}
    keys = Counter(m.extra_headers["X-Baton-Notification"] for m in mail.outbox)
    assert keys == dict.fromkeys(rows.values_list("dedup_key", flat=True), 1)
    assert deliver_due(now=timezone.now()) == (0, 0)
    print(f"100 calls with Redis unreachable: {Counter(s for _, s in calls)}; {sent} messages sent once")
