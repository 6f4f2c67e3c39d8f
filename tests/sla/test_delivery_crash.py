"""A worker killed with SIGKILL in the middle of delivering 200 messages, then restarted: each message
reaches the SMTP server, and at most the one in flight per killed worker arrives twice.

The real thing: a Celery worker subprocess (solo pool: the task runs in the process that is killed),
Redis as the broker, the pytest database on PostgreSQL, and an SMTP server on localhost that takes a
little time per message, so that the kills land in the middle of the run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from processes.models import Notification
from processes.outbox import address_due
from tests.real_worker import Inbox, free_port, redis_url, stop, tail, worker_env

from .conftest import T0, minutes

REDIS_DB = 6
MESSAGES = 200
KILL_AT = (50, 120)  # received messages at which the running worker is killed
WAIT_SECONDS = 120
BASE_DIR = Path(settings.BASE_DIR)


class SlowInbox(Inbox):
    """Takes 20 ms per message before answering, as a real relay takes its time."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp_server():
    from aiosmtpd.controller import Controller

    inbox = SlowInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_resends_at_most_the_message_in_flight(
    slow_smtp_server, open_case, tmp_path, monkeypatch
):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (set REDIS_URL)")
    # The after-commit kick would deliver at once, in this process; the worker is to do it
    monkeypatch.setattr("processes.notifications.kick_delivery", lambda *args, **kwargs: None)
    smtp_port, inbox = slow_smtp_server
    # Given 200 messages waiting: 100 intakes, each telling the call center's agent and lead
    for n in range(MESSAGES // 2):
        open_case(at=T0 + minutes(n / 10))
    address_due(now=timezone.now())
    assert Notification.objects.filter(status=Notification.Status.PENDING).count() == MESSAGES
    keys = set(Notification.objects.values_list("dedup_key", flat=True))

    env = worker_env(
        redis_db=REDIS_DB, smtp_port=smtp_port, PYTHONUNBUFFERED="1", BATON_MAIL_BATCH=str(MESSAGES * 2)
    )
    celery = [sys.executable, "-m", "celery", "-A", "config.celery_app"]
    workers: list[tuple[subprocess.Popen, Path]] = []

    def start_worker_and_deliver() -> subprocess.Popen:
        log = tmp_path / f"worker-{len(workers)}.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(  # noqa: S603 - a fixed argv of our own, no shell
                [
                    *celery,
                    "worker",
                    "--pool=solo",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    f"--hostname=crash-test-{os.getpid()}-{len(workers)}@%h",
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        workers.append((worker, log))
        # What beat does every minute: ask for a delivery run
        subprocess.run(  # noqa: S603
            [*celery, "call", "processes.tasks.deliver_notifications"],
            cwd=BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
        )
        return worker

    def diagnostics() -> str:
        return "\n".join(
            f"--- worker {i} (exit {w.poll()}) ---\n{tail(log)}" for i, (w, log) in enumerate(workers)
        )

    def wait_until(condition, what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{what} not within {WAIT_SECONDS} s; received {len(inbox.messages)}\n{diagnostics()}"
                )
            time.sleep(0.01)

    killed_at: list[int] = []
    try:
        # When the worker is killed with SIGKILL twice in the middle, and started again each time
        for threshold in KILL_AT:
            worker = start_worker_and_deliver()
            wait_until(lambda threshold=threshold: len(inbox.messages) >= threshold, f"{threshold} messages")
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            killed_at.append(len(inbox.messages))
        start_worker_and_deliver()
        wait_until(
            lambda: not Notification.objects.exclude(status=Notification.Status.SENT).exists(),
            "every message sent",
        )
        time.sleep(1)  # anything still on its way arrives
    finally:
        for worker, _log in workers:
            stop(worker)
        redis.Redis.from_url(redis_url(REDIS_DB)).flushdb()

    # Then every message arrived, and at most one per killed worker twice
    received = Counter(inbox.notification_keys())
    assert set(received) == keys, diagnostics()
    twice = {key: n for key, n in received.items() if n > 1}
    assert sum(n - 1 for n in twice.values()) <= len(KILL_AT), twice
    assert all(n == 2 for n in twice.values()), twice
    print(
        f"{MESSAGES} messages, worker killed at {killed_at} received: {sum(received.values())} received, "
        f"{len(twice)} twice ({sorted(twice)})"
    )
