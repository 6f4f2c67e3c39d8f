"""What the review services share: the status path of an action, limits and settings, and the
one 400 that names every bad field."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings

from core.errors import InvalidInput
from evaluations.periods import TZ
from evaluations.reviews.models import (
    ImprovementAction,
    ImprovementActionEvent,
)

Status = ImprovementAction.Status
EventKind = ImprovementActionEvent.Kind

# The allowed status changes of an action; everything else is a 409.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS}),
    Status.IN_PROGRESS: frozenset({Status.DONE}),
    # Back to work when it was not really done; or the check, by hand (an action without a KPI).
    Status.DONE: frozenset({Status.IN_PROGRESS, Status.VERIFIED, Status.NOT_EFFECTIVE}),
    Status.VERIFIED: frozenset(),
    Status.NOT_EFFECTIVE: frozenset(),
}
# How far along the path open → in progress → done → checked a status is (to name a skipped step).
STEP = {Status.OPEN: 0, Status.IN_PROGRESS: 1, Status.DONE: 2, Status.VERIFIED: 3, Status.NOT_EFFECTIVE: 3}
VERDICTS = (Status.VERIFIED, Status.NOT_EFFECTIVE)
RETRY_FAILED_RUN = timedelta(hours=1)
CENT = Decimal("0.01")
MAX_TEXT = 4000


def _catch_up_limit() -> int:
    return max(1, int(getattr(settings, "BATON_REVIEW_CATCH_UP", 6)))


def _remind_days() -> int:
    return int(getattr(settings, "BATON_ACTION_REMIND_DAYS", 3))


def _invalid(errors: list[tuple[str, str, str]], message: str = "Invalid input.") -> InvalidInput:
    """One 400 naming every bad field; its code is the errors' code when they share one."""
    fields: dict[str, list[str]] = {}
    for name, text, _code in errors:
        fields.setdefault(name, []).append(text)
    field_codes = {name: code for name, _text, code in reversed(errors)}
    codes = set(field_codes.values())
    return InvalidInput(
        message,
        code=codes.pop() if len(codes) == 1 else "invalid",
        extra={"fields": fields, "field_codes": field_codes},
    )


def _local_today(at: datetime) -> date:
    return at.astimezone(TZ).date()
