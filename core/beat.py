"""Every periodic task, declared in this one place.

`manage.py setup_schedules` (run by `make run`, the container entrypoint and a migration-free fresh
install) writes these into django-celery-beat's tables if they are missing, so the quality office can
then change or pause them in the admin without a deploy overwriting their edits.
Each entry carries an expiry shorter than its interval: a message that waited longer than that behind
a down worker is dropped instead of piling up.
"""

from __future__ import annotations

import json

# name -> (task, every N seconds or a crontab dict, expires seconds, description)
BEAT_SCHEDULE: dict[str, dict] = {
    "worker-heartbeat": {
        "task": "departments.tasks.heartbeat",
        "every": 30,
        "expires": 25,
        "description": "Proves beat → broker → worker → database; /readyz reports it.",
    },
    "sla-sweep": {
        "task": "processes.tasks.sla_sweep",
        "every": 60,
        "expires": 55,
        "description": "Marks breaches, escalates, warns at 80% of a target.",
    },
    "deliver-notifications": {
        "task": "processes.tasks.deliver_notifications",
        "every": 60,
        "expires": 55,
        "description": "Sends due outbox rows (the after-commit kick covers the normal case).",
    },
    "deliver-webhooks": {
        "task": "processes.tasks.deliver_webhooks",
        "every": 60,
        "expires": 55,
        "description": "Addresses new feed events to webhook subscriptions and sends due deliveries.",
    },
    "purge-idempotency-keys": {
        "task": "processes.tasks.purge_idempotency_keys",
        "crontab": {"minute": "40", "hour": "*"},
        "expires": 3000,
        "description": "Deletes Idempotency-Key records older than BATON_IDEMPOTENCY_HOURS.",
    },
    "auto-close-resolved": {
        "task": "processes.tasks.auto_close_resolved",
        "crontab": {"minute": "15", "hour": "*"},
        "expires": 3000,
        "description": "Closes resolved cases after BATON_AUTO_CLOSE_DAYS without a reopen.",
    },
    "compute-evaluations": {
        "task": "evaluations.tasks.compute_recent_evaluations",
        "crontab": {"minute": "5", "hour": "*/2"},
        "expires": 3600,
        "description": "Recomputes the current and previous weekly, monthly and quarterly evaluations.",
    },
    "review-cycles": {
        "task": "evaluations.tasks.run_due_review_cycles",
        "every": 300,
        "expires": 290,
        "description": "Runs due improvement-review cycles (once per period; catches up after downtime).",
    },
    "action-reminders": {
        "task": "evaluations.tasks.remind_improvement_actions",
        "crontab": {"minute": "30", "hour": "8"},
        "expires": 6 * 3600,
        "description": "Reminds owners of improvement actions due soon or overdue (once per action a day).",
    },
}


def install_schedules(*, overwrite: bool = False) -> list[str]:
    """Create missing beat entries; with overwrite, reset existing ones to the declared values."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    created: list[str] = []
    for name, entry in BEAT_SCHEDULE.items():
        defaults: dict = {
            "task": entry["task"],
            "description": entry.get("description", ""),
            "expire_seconds": entry.get("expires"),
            "kwargs": json.dumps(entry.get("kwargs", {})),
        }
        if "every" in entry:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=entry["every"], period=IntervalSchedule.SECONDS
            )
            defaults.update(interval=interval, crontab=None)
        else:
            crontab, _ = CrontabSchedule.objects.get_or_create(timezone="Asia/Shanghai", **entry["crontab"])
            defaults.update(crontab=crontab, interval=None)
        if overwrite:
            PeriodicTask.objects.update_or_create(name=name, defaults=defaults)
        else:
            _, was_created = PeriodicTask.objects.get_or_create(name=name, defaults=defaults)
            if was_created:
                created.append(name)
    return created
