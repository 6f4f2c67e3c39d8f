"""Celery tasks: a thin interface over the services. Ids in, service inside, rerun-safe."""

from __future__ import annotations

import time

from celery import shared_task

# Idempotent tasks acknowledge late and are re-queued when a worker dies mid-way.
IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(bind=True, soft_time_limit=120, time_limit=150, **IDEMPOTENT)
def sla_sweep(self) -> dict:
    from processes.sla import sla_sweep as sweep

    result = sweep()
    if any(result.counts.values()):
        from processes.webhooks.delivery import kick

        kick()  # the sweep's events (breaches, escalations, warnings) reach webhooks now
    if result.more:
        # A step filled its batch: continue right away instead of waiting a minute.
        self.apply_async(countdown=1)
    return result.counts


@shared_task(
    bind=True,
    soft_time_limit=120,
    time_limit=150,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
    **IDEMPOTENT,
)
def deliver_notifications(self) -> dict:
    from django.conf import settings

    from processes import nudges
    from processes.outbox import deliver_due

    nudges.taken(self)
    sent, failed = deliver_due()
    if sent + failed >= settings.BATON_MAIL_BATCH:
        self.apply_async(countdown=1)
    return {"sent": sent, "failed": failed}


@shared_task(bind=True, soft_time_limit=300, time_limit=330, **IDEMPOTENT)
def auto_close_resolved(self) -> int:
    from processes.services import case_auto_close_batch

    closed, more = case_auto_close_batch()
    if more:
        self.apply_async(countdown=1)
    return closed


@shared_task(bind=True, soft_time_limit=240, time_limit=270, **IDEMPOTENT)
def deliver_webhooks(self) -> dict:
    from django.conf import settings

    from processes import nudges
    from processes.webhooks.delivery import deliver_due

    nudges.taken(self)
    started = time.monotonic()
    delivered, failed = deliver_due()
    if delivered + failed >= settings.BATON_WEBHOOK_BATCH or (
        time.monotonic() - started > settings.BATON_WEBHOOK_RUN_SECONDS
    ):
        self.apply_async(countdown=1)
    return {"delivered": delivered, "failed": failed}


@shared_task(bind=True, soft_time_limit=120, time_limit=150, **IDEMPOTENT)
def purge_idempotency_keys(self) -> int:
    from processes.api.idempotency import idempotency_keys_purge

    return idempotency_keys_purge()
