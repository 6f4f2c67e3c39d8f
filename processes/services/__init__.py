"""Every state change of a case or a handoff: one function each, used by the admin, the API, the
tasks and the commands alike. Split by concern (intake, handoff moves, case-level changes; the
shared write machinery in processes.services.base); `from processes.services import x` works for
each of them (every name in a module's `__all__`). The shape of each is in docs/architecture.md ("The write path")."""

from processes.services import cases, handoffs, intake
from processes.services.cases import *  # noqa: F403
from processes.services.handoffs import *  # noqa: F403
from processes.services.intake import *  # noqa: F403

# Each module lists its state changes in its own `__all__`: a new one needs no line here.
__all__ = sorted([*intake.__all__, *handoffs.__all__, *cases.__all__])
