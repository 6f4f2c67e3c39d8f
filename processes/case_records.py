"""What other apps record about a case, written by the app that owns the case tables.

`evaluations` keeps its own rows about a case (feedback, inspections) and calls these instead of
locking `processes_case` or writing `CaseEvent` itself, so every write to a `processes` table goes
through a `processes` service and takes the same case lock as the state changes (processes/locking.py:
FOR NO KEY UPDATE, since no key changes).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from core.errors import NotFound
from processes.models import Case, CaseEvent


def case_lock(case: Case) -> Case:
    """Lock the case row until the end of the caller's transaction and return it fresh, so that
    writes about one case (its feedback, its inspections) happen one at a time."""
    try:
        return Case.objects.select_for_update(no_key=True, of=("self",)).get(pk=case.pk)
    except Case.DoesNotExist as exc:
        raise NotFound("No such case.") from exc


def feedback_record(case: Case, *, actor, at: datetime, facts: dict[str, Any]) -> CaseEvent:
    """The timeline entry of customer feedback received on `case` (locked by `case_lock` in the same
    transaction), and the case's updated_at: the change feed of integrations polls it, and a new
    timeline entry is a change."""
    event = CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.FEEDBACK_RECEIVED,
        actor=actor if actor is not None and actor.is_authenticated else None,
        department_id=case.current_department_id,
        created_at=at,
        payload=facts,
    )
    case.updated_at = max(at, case.updated_at) if case.updated_at else at
    case.save(update_fields=["updated_at"])
    return event


def feedback_records_seed(rows: Iterable[tuple[int, int | None, datetime, dict[str, Any]]]) -> int:
    """The demo history's feedback timeline entries in one INSERT: (case id, department id, time, facts)
    per row, no lock and no `updated_at` (the history is written before anyone reads it)."""
    events = CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=case_id,
            kind=CaseEvent.Kind.FEEDBACK_RECEIVED,
            department_id=department_id,
            created_at=at,
            payload=facts,
        )
        for case_id, department_id, at, facts in rows
    )
    return len(events)
