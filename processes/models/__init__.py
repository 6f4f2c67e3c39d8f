"""The models of the `processes` app, by concern: process definitions, cases and their timeline, and
what leaves the system after commit. `from processes.models import X` works for every one of them."""

from processes.models.cases import (
    CALL_BACK_NOTE,
    COMPENSATION_NOTE,
    EVENT_KINDS,
    Case,
    CaseEvent,
    CurrentTransactionId,
    Handoff,
    PauseSegment,
    ReferenceCounter,
    handoff_note_text,
)
from processes.models.customers import ConsoleSms, CustomerMessage, CustomerMessageTemplate
from processes.models.definitions import (
    Priority,
    ServiceProcess,
    Stage,
    StageTarget,
    Transition,
)
from processes.models.delivery import (
    NOTIFICATION_KINDS,
    FeedCursor,
    IdempotencyKey,
    Notification,
    NotificationPreference,
    OutboxEntry,
    WebhookDelivery,
    WebhookSubscription,
)
from processes.models.desk import Attachment, CaseLink, ReplyTemplate, SavedQueueView, attachment_path

__all__ = [
    "CALL_BACK_NOTE",
    "COMPENSATION_NOTE",
    "EVENT_KINDS",
    "NOTIFICATION_KINDS",
    "Attachment",
    "Case",
    "CaseEvent",
    "CaseLink",
    "ConsoleSms",
    "CurrentTransactionId",
    "CustomerMessage",
    "CustomerMessageTemplate",
    "FeedCursor",
    "Handoff",
    "IdempotencyKey",
    "Notification",
    "NotificationPreference",
    "OutboxEntry",
    "PauseSegment",
    "Priority",
    "ReferenceCounter",
    "ReplyTemplate",
    "SavedQueueView",
    "ServiceProcess",
    "Stage",
    "StageTarget",
    "Transition",
    "WebhookDelivery",
    "WebhookSubscription",
    "attachment_path",
    "handoff_note_text",
]
