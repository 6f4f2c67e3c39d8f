"""The real thing: a Celery worker and beat as subprocesses, Redis as the broker, the pytest database,
and an SMTP server on localhost. An overdue handoff must be breached, escalated and e-mailed about
by the beat-driven sweep, with each e-mail received exactly once."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from processes.models import CaseEvent, Handoff, Notification
from tests.real_worker import redis_url, stop, tail, worker_env

from .conftest import open_handoff

# A Redis database of its own, so that no other worker (make run, another suite) takes its tasks.
REDIS_DB = 5
SWEEP_EVERY_SECONDS = 3
WAIT_SECONDS = 90
BASE_DIR = Path(settings.BASE_DIR)


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_and_beat_breach_escalate_and_email_an_overdue_handoff(
    smtp_server, open_case, tmp_path
):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (set REDIS_URL)")
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from core.beat import install_schedules

    smtp_port, inbox = smtp_server
    # Given a complaint whose intake handoff was due 45 minutes ago (opened an hour ago, 24×7 calendar)
    case = open_case(at=timezone.now() - timedelta(hours=1))
    handoff = open_handoff(case)
    assert handoff.response_due_at < timezone.now()
    # And the beat schedules, with the sweep and the delivery every few seconds
    install_schedules()
    every, _ = IntervalSchedule.objects.get_or_create(
        every=SWEEP_EVERY_SECONDS, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.filter(name__in=["sla-sweep", "deliver-notifications"]).update(
        interval=every, expire_seconds=SWEEP_EVERY_SECONDS * 10
    )

    env = worker_env(redis_db=REDIS_DB, smtp_port=smtp_port, PYTHONUNBUFFERED="1")
    celery = [sys.executable, "-m", "celery", "-A", "config.celery_app"]
    logs = tmp_path
    processes: list[tuple[str, subprocess.Popen, Path]] = []

    def start(name: str, *args: str) -> None:
        log = logs / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - a fixed argv of our own, no shell
                [*celery, *args], cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        processes.append((name, process, log))

    def diagnostics() -> str:
        return (
            "\n".join(f"--- {name} (exit {p.poll()}) ---\n{tail(log)}" for name, p, log in processes)
            + f"\n--- received: {inbox.notification_keys()}"
        )

    breached_key = f"breached:response:{handoff.pk}:"
    escalated_key = f"escalated:1:{handoff.pk}:"
    try:
        # When a worker and beat run
        start(
            "worker",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=sla-test-{os.getpid()}@%h",
        )
        start(
            "beat",
            "beat",
            "--loglevel=INFO",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
        )
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            keys = inbox.notification_keys()
            if any(k.startswith(breached_key) for k in keys) and any(
                k.startswith(escalated_key) for k in keys
            ):
                break
            for name, p, _log in processes:
                assert p.poll() is None, f"{name} exited early\n{diagnostics()}"
            time.sleep(0.5)
        else:
            pytest.fail(f"no breach e-mail within {WAIT_SECONDS} s\n{diagnostics()}")
        # Let a few more sweeps and deliveries run: none may send anything twice
        time.sleep(SWEEP_EVERY_SECONDS * 3)
    finally:
        for _name, process, _log in reversed(processes):
            stop(process)
        # Beat's last messages must not reach the next run's worker (harmless, but noisy).
        redis.Redis.from_url(redis_url(REDIS_DB)).flushdb()

    # Then the SMTP server received the breach (agent, lead) and the escalation (lead), once each
    received = Counter(inbox.notification_keys())
    assert set(received.values()) == {1}, diagnostics()
    assert sorted(k for k in received if k.startswith(breached_key)) == sorted(
        f"{breached_key}{u}"
        for u in Notification.objects.filter(kind="breached").values_list("user_id", flat=True)
    )
    assert [k for k in received if k.startswith(escalated_key)] == [
        f"{escalated_key}{Notification.objects.get(kind='escalated').user_id}"
    ]
    message = next(m for m in inbox.messages if m["X-Baton-Notification"].startswith(escalated_key))
    assert message["To"] == "call_center_lead@bank.example"
    assert case.reference in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    # And the handoff is escalated, with its events, and the outbox rows are sent
    handoff.refresh_from_db()
    assert handoff.response_breached_at == handoff.response_due_at
    assert handoff.escalation_level == 1
    assert CaseEvent.objects.filter(handoff=handoff, kind=CaseEvent.Kind.BREACHED).count() == 1
    assert CaseEvent.objects.filter(handoff=handoff, kind=CaseEvent.Kind.ESCALATED).count() == 1
    swept = Notification.objects.filter(case=case, kind__in=["breached", "escalated"])
    assert swept.count() == 3
    assert set(swept.values_list("status", flat=True)) == {Notification.Status.SENT}
    assert Handoff.objects.filter(case=case).count() == 1
