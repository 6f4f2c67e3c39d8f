"""The real thing: a Celery worker and beat as subprocesses, Redis, the test database and a real HTTP
receiver. A case's whole life reaches the receiver once each (after de-duplication on `webhook-id`,
as documented), in order, with valid signatures, while the receiver answers 500 for a while, the
worker is SIGKILLed in the middle of a request, and the broker is down when one change commits."""

from __future__ import annotations

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

from tests.real_worker import redis_url, stop, tail, worker_env

from .conftest import LIFE_KINDS

REDIS_DB = 6
EVERY = 2
WAIT_SECONDS = 120
BASE_DIR = Path(settings.BASE_DIR)


def _use_broker(url: str) -> None:
    """Point this process's after-commit kick at `url` (the test settings run tasks eagerly)."""
    from config.celery_app import app

    app.conf.task_always_eager = False
    app.conf.broker_url = url
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_every_event_once_in_order_through_500s_sigkill_and_a_down_broker(
    receiver, subscribe, case_life, tmp_path
):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (set REDIS_URL)")
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from config.celery_app import app
    from core.beat import install_schedules

    subscribe(receiver.url, receiver.secret)
    install_schedules()
    every, _ = IntervalSchedule.objects.get_or_create(every=EVERY, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.exclude(name="deliver-webhooks").update(enabled=False)
    PeriodicTask.objects.filter(name="deliver-webhooks").update(interval=every, expire_seconds=EVERY * 5)
    # The receiver fails its 2nd and 3rd requests, and holds its 6th until the worker has been killed.
    receiver.script = lambda n: 500 if n in (1, 2) else 200
    receiver.hold_at = 5
    env = worker_env(
        redis_db=REDIS_DB,
        BATON_WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
        BATON_WEBHOOK_RETRY_SECONDS="0.5",
        PYTHONUNBUFFERED="1",
    )
    celery = [sys.executable, "-m", "celery", "-A", "config.celery_app"]
    processes: list[tuple[str, subprocess.Popen, Path]] = []

    def start(name: str, *args: str) -> subprocess.Popen:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - a fixed argv of our own, no shell
                [*celery, *args], cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        processes.append((name, process, log))
        return process

    def worker(n: int) -> subprocess.Popen:
        return start(
            f"worker{n}",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=webhook-test-{n}-{os.getpid()}@%h",
        )

    def diagnostics() -> str:
        return "\n".join(f"--- {name} (exit {p.poll()}) ---\n{tail(log)}" for name, p, log in processes) + (
            f"\n--- received: {[(r['body']['type'], r.get('status')) for r in receiver.requests]}"
        )

    up, down = redis_url(REDIS_DB), "redis://127.0.0.1:1/0"
    try:
        first = worker(1)
        start(
            "beat",
            "beat",
            "--loglevel=INFO",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
        )
        # When the case lives its life; the broker is down when its second change commits
        for step, _case in enumerate(case_life()):
            _use_broker(down if step == 1 else up)
            time.sleep(0.2)
        # And the worker is killed while the receiver holds a request
        assert receiver.holding.wait(WAIT_SECONDS), diagnostics()
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        receiver.release.set()
        worker(2)
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and len(receiver.delivered()) < len(LIFE_KINDS):
            time.sleep(0.5)
        time.sleep(EVERY * 3)  # a few more runs: nothing may arrive twice more
    finally:
        _use_broker(up)
        app.conf.task_always_eager = True
        for _name, process, _log in reversed(processes):
            stop(process)
        redis.Redis.from_url(redis_url(REDIS_DB)).flushdb()

    # Then every event arrived in order, every signature valid
    got = receiver.delivered()
    assert [r["body"]["type"] for r in got] == [f"case.{k}" for k in LIFE_KINDS], diagnostics()
    assert all(r["verified"] for r in receiver.requests), diagnostics()
    # And the only repeat is the one message in flight when the worker died (same webhook-id)
    copies = Counter(r["headers"]["webhook-id"] for r in receiver.requests if r["status"] == 200)
    repeated = [k for k, n in copies.items() if n > 1]
    assert len(repeated) <= 1 and all(copies[k] == 2 for k in repeated), diagnostics()
    assert repeated == [receiver.requests[5]["headers"]["webhook-id"]], diagnostics()
    assert len(receiver.requests) == len(LIFE_KINDS) + 2 + 1, diagnostics()
