"""Plain helpers for the process-engine tests (fixtures live in conftest.py)."""

from __future__ import annotations

from processes.models import Case, CaseEvent, Handoff, Notification, OutboxEntry, PauseSegment
from tests.support import SHANGHAI, local  # noqa: F401


def open_handoff(case: Case) -> Handoff:
    return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)


def event_kinds(case: Case) -> list[str]:
    return list(
        CaseEvent.objects.filter(case=case).order_by("created_at", "pk").values_list("kind", flat=True)
    )


def snapshot(case: Case) -> dict:
    """Everything a refused transition must leave untouched, read fresh from the database."""
    row = Case.objects.get(pk=case.pk)
    return {
        "case": {field.attname: getattr(row, field.attname) for field in Case._meta.concrete_fields},
        "handoffs": list(Handoff.objects.filter(case=case).order_by("pk").values()),
        "pauses": list(PauseSegment.objects.filter(handoff__case=case).order_by("pk").values()),
        "events": CaseEvent.objects.filter(case=case).count(),
        "all_cases": Case.objects.count(),
        "outbox": OutboxEntry.objects.count(),
        "notifications": Notification.objects.count(),
    }
