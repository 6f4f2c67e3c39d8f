"""The admin of department staff: the queue, the case page with its actions, the read-only
timeline, and the process definitions of the quality office.

Thin by design (CONVENTIONS §1–2): reads come from `processes.selectors`, every change is one call
of a `processes.services` function, and which buttons a page shows comes from
`selectors.allowed_actions`, the mirror of the services' guards. Importing the modules registers them.
"""

from processes.admin import cases, definitions, desk, live, outbox, queue, timeline, webhooks

__all__ = ["cases", "definitions", "desk", "live", "outbox", "queue", "timeline", "webhooks"]
