"""Every state change of a case or a handoff: one function each, used by the admin, the API, the
tasks and the commands alike. Split by concern (intake, handoff moves, case-level changes; the
shared write machinery in processes.services.base); `from processes.services import x` works for
each of them. The shape of each is in docs/architecture.md ("The write path")."""

from processes.services.cases import (
    case_auto_close_batch,
    case_cancel,
    case_close,
    case_comment,
    case_extend_deadline,
    case_reopen,
    case_resolve,
    compensation_decide,
)
from processes.services.handoffs import (
    case_forward,
    handoff_accept,
    handoff_claim,
    handoff_pause,
    handoff_resume,
    handoff_return,
)
from processes.services.intake import (
    case_open,
)

__all__ = [
    "case_auto_close_batch",
    "case_cancel",
    "case_close",
    "case_comment",
    "case_extend_deadline",
    "case_forward",
    "case_open",
    "case_reopen",
    "case_resolve",
    "compensation_decide",
    "handoff_accept",
    "handoff_claim",
    "handoff_pause",
    "handoff_resume",
    "handoff_return",
]
