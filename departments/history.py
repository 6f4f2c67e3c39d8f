"""The configuration history as people read it: who changed which setting when, from what to what.

django-simple-history keeps a full copy of the row on every save (`Historical<Model>` tables, append-
only on PostgreSQL); this reads the latest copies of every tracked model and the copy before each, and
turns each pair into the fields that changed. A constant number of queries per tracked model, whatever
the number of rows shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Max

TYPES = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class Change:
    at: datetime
    user: str
    model: str
    object_id: Any
    object: str
    kind: str
    fields: list[tuple[str, Any, Any]]  # (field, before, after)


def tracked_history_models() -> list[type]:
    """The historical models of every app (each tracked model has one), in a stable order."""
    return sorted((m for m in apps.get_models() if hasattr(m, "instance_type")), key=lambda m: m._meta.label)


def _values(row, names: list[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def configuration_changes(*, limit: int = 200) -> list[Change]:
    changes: list[Change] = []
    for history in tracked_history_models():
        tracked = history.instance_type
        names = [f.attname for f in tracked._meta.concrete_fields]
        latest = list(
            history.objects.select_related("history_user").order_by("-history_date", "-history_id")[:limit]
        )
        if not latest:
            continue
        oldest = min(row.history_date for row in latest)
        ids = {row.id for row in latest}
        # Every earlier copy of the same rows, newest first: the one just before each shown copy.
        earlier: dict[Any, list] = {}
        for row in history.objects.filter(id__in=ids, history_date__lte=oldest).order_by(
            "-history_date", "-history_id"
        ):
            earlier.setdefault(row.id, []).append(row)
        by_object: dict[Any, list] = {}
        for row in sorted(latest, key=lambda r: (r.history_date, r.history_id)):
            by_object.setdefault(row.id, []).append(row)
        for object_id, rows in by_object.items():
            previous_rows = [r for r in earlier.get(object_id, []) if r.history_id < rows[0].history_id]
            previous = previous_rows[0] if previous_rows else None
            for row in rows:
                after = _values(row, names)
                before = _values(previous, names) if previous is not None else {}
                fields = [
                    (name, before.get(name), value)
                    for name, value in after.items()
                    if row.history_type == "+" or before.get(name) != value
                ]
                changes.append(
                    Change(
                        at=row.history_date,
                        user=row.history_user.get_username() if row.history_user else "",
                        model=str(tracked._meta.verbose_name),
                        object_id=object_id,
                        object=str(row.instance) if row.history_type != "-" else f"#{object_id}",
                        kind=TYPES.get(row.history_type, row.history_type),
                        fields=fields if row.history_type != "-" else [],
                    )
                )
                previous = row
    changes.sort(key=lambda c: c.at, reverse=True)
    return changes[:limit]


def latest_change_at() -> datetime | None:
    found = [h.objects.aggregate(at=Max("history_date"))["at"] for h in tracked_history_models()]
    found = [at for at in found if at is not None]
    return max(found) if found else None
