"""Every write of review cycles, reviews and improvement actions, one function each, used by the
admin, the API, the tasks and the demo alike: cycles (and their schedule), runs (a period's review,
the due sweep, closing), actions, reminders."""

from evaluations.reviews.services.actions import (
    EDITABLE,
    action_change_status,
    action_create,
    action_update,
)
from evaluations.reviews.services.common import (
    STEP,
    TRANSITIONS,
    VERDICTS,
)
from evaluations.reviews.services.cycles import (
    CYCLE_FIELDS,
    review_cycle_check,
    review_cycle_create,
    review_cycle_update,
    reviewed_department_ids,
    run_due_at,
)
from evaluations.reviews.services.reminders import (
    actions_remind,
    owners_for,
)
from evaluations.reviews.services.runs import (
    findings_build,
    review_close,
    review_cycle_run,
    review_cycle_run_due,
)

__all__ = [
    "CYCLE_FIELDS",
    "EDITABLE",
    "STEP",
    "TRANSITIONS",
    "VERDICTS",
    "action_change_status",
    "action_create",
    "action_update",
    "actions_remind",
    "findings_build",
    "owners_for",
    "review_close",
    "review_cycle_check",
    "review_cycle_create",
    "review_cycle_run",
    "review_cycle_run_due",
    "review_cycle_update",
    "reviewed_department_ids",
    "run_due_at",
]
