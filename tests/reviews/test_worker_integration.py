"""The real thing: Celery beat and a worker as subprocesses, Redis as the broker, the pytest database
and an SMTP server on localhost. A monthly cycle whose run is already due (rather than moving the
system clock) must be run by the beat-driven task, and each recipient must receive its review e-mail
exactly once, with the right content."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from evaluations.periods import PeriodKind, period_containing, today
from evaluations.reviews.models import ImprovementReview
from processes.models import Notification
from tests.real_worker import redis_url, stop, tail, worker_env

from .support import ReviewWorld

# A Redis database of its own, so that no other worker (make run, the SLA test) takes its tasks.
REDIS_DB = 6
EVERY_SECONDS = 3
WAIT_SECONDS = 120
BASE_DIR = Path(settings.BASE_DIR)


def _text(message: email.message.Message, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{subtype} part")


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_beat_and_worker_run_a_due_cycle_and_each_recipient_gets_one_review_email(
    smtp_server, tmp_path
):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (set REDIS_URL)")
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from core.beat import install_schedules

    smtp_port, inbox = smtp_server
    # Given last month's history: the back office bounced 2 of its 4 handoffs
    world = ReviewWorld()
    last_month = period_containing(PeriodKind.MONTHLY, today()).previous()
    first_day = timezone.localtime(last_month.starts_at)
    world.bounces(first_day + timedelta(days=2, hours=10), total=4, returned=2)
    # And a monthly cycle created back then: its run for last month is already due (the 1st, 08:00)
    cycle = world.cycle(now=first_day + timedelta(days=10), extra_recipients="board@bank.example")
    assert cycle.next_period_start == last_month.start and cycle.next_run_at <= timezone.now()
    # And the beat schedules, with the cycle sweep and the delivery every few seconds
    install_schedules()
    every, _ = IntervalSchedule.objects.get_or_create(every=EVERY_SECONDS, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name__in=["review-cycles", "deliver-notifications"]).update(
        interval=every, expire_seconds=EVERY_SECONDS * 10
    )

    env = worker_env(redis_db=REDIS_DB, smtp_port=smtp_port, PYTHONUNBUFFERED="1")
    celery = [sys.executable, "-m", "celery", "-A", "config.celery_app"]
    processes: list[tuple[str, subprocess.Popen, Path]] = []

    def start(name: str, *args: str) -> None:
        log = tmp_path / f"{name}.log"
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
            f"--hostname=review-test-{os.getpid()}@%h",
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
            if sum(1 for k in inbox.notification_keys() if k.startswith("review:")) >= 4:
                break
            for name, p, _log in processes:
                assert p.poll() is None, f"{name} exited early\n{diagnostics()}"
            time.sleep(0.5)
        else:
            pytest.fail(f"no review e-mails within {WAIT_SECONDS} s\n{diagnostics()}")
        # Let a few more sweeps and deliveries run: none may run the cycle or send anything twice
        time.sleep(EVERY_SECONDS * 4)
    finally:
        for _name, process, _log in reversed(processes):
            stop(process)
        redis.Redis.from_url(redis_url(REDIS_DB)).flushdb()

    # Then one review of last month, and the schedule moved on to this month
    review = ImprovementReview.objects.get()
    assert (review.cycle_id, review.period_start) == (cycle.pk, last_month.start)
    cycle.refresh_from_db()
    assert cycle.next_period_start == last_month.next().start and cycle.next_run_at > timezone.now()
    # And the SMTP server received one e-mail per recipient, each once
    received = Counter(inbox.notification_keys())
    assert set(received.values()) == {1}, diagnostics()
    by_recipient = {to[0]: m for to, m in inbox.envelopes if m["X-Baton-Notification"].startswith("review:")}
    assert set(by_recipient) == {
        "rv_officer@bank.example",
        "rv_front_lead@bank.example",
        "rv_back_lead@bank.example",
        "board@bank.example",
    }
    for address, message in by_recipient.items():
        user_key = Notification.objects.get(recipient=address, kind="review").user_id or address
        assert message["X-Baton-Notification"] == f"review:{review.pk}:{user_key}"
        assert message["To"] == address
        assert message.get_content_type() == "multipart/alternative"
        assert f"/admin/evaluations/improvementreview/{review.pk}/change/" in _text(message, "plain")
    # The back office's lead reads English: their scorecard, with the bounce rate against its target
    back = by_recipient["rv_back_lead@bank.example"]
    subject = str(make_header(decode_header(back["Subject"])))
    assert subject == f"[monthly review] Improvement review {last_month.label}: Back office"
    text = _text(back, "plain")
    assert "== Back office: " in text
    assert "- Bounce-back rate: 50% (Target 5%)" in text
    assert "== Front desk:" not in text
    assert 'name="viewport"' in _text(back, "html")
    # The quality office reads Chinese: every department in one table, and the flow hot spot
    office = _text(by_recipient["rv_officer@bank.example"], "plain")
    assert "前台" in office and "后台" in office and "前台 → 后台" in office
    assert set(Notification.objects.filter(kind="review").values_list("status", flat=True)) == {"sent"}
