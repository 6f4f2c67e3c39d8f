"""The admin of department staff: the queue, the case page with its actions, the read-only
timeline, and the process definitions of the quality office.

Thin by design (docs/architecture.md): reads come from `processes.selectors`, every change is one call
of a `processes.services` function, and which buttons a page shows comes from
`selectors.allowed_actions`, which reads the same rules as the services (`processes.rules`).
Importing the modules registers them.
"""

from processes.admin import cases, customers, definitions, desk, live, outbox, queue, timeline, webhooks

__all__ = ["cases", "customers", "definitions", "desk", "live", "outbox", "queue", "timeline", "webhooks"]
