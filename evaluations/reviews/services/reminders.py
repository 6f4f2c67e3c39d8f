"""Reminders of improvement actions that are due soon or overdue, to their owners and leads."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from departments.models import Department
from evaluations.reviews import emails as review_emails
from evaluations.reviews.models import (
    ImprovementAction,
)
from evaluations.reviews.services.common import (
    _local_today,
    _remind_days,
)


# == reminders ======================================================================================
def actions_remind(*, now: datetime | None = None, batch: int = 500) -> int:
    """Queue the day's reminders: to the owner of every action still to be done that is due within
    BATON_ACTION_REMIND_DAYS days or overdue, and for overdue ones to the department's leads too.
    Rerun-safe: one reminder per action and day (`action-reminder:<id>:<day>`), one e-mail per
    reminder and recipient at delivery. Returns the number of reminders queued."""
    now = now or timezone.now()
    today = _local_today(now)
    due = ImprovementAction.objects.filter(
        status__in=ImprovementAction.PENDING, due_date__lte=today + timedelta(days=_remind_days())
    ).order_by("pk")
    queued, last = 0, 0
    while True:
        with transaction.atomic():
            rows = list(due.filter(pk__gt=last).select_related("owner", "department", "review")[:batch])
            if not rows:
                return queued
            queued += review_emails.queue_action_reminders(rows, today=today, at=now)
        last = rows[-1].pk
        if len(rows) < batch:
            return queued


def owners_for(department: Department):
    """Who may own an action of the department (the admin's and the API's choices)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__department=department)
        .distinct()
        .order_by("username")
    )
