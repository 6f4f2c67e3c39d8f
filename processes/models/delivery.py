"""What leaves the system after commit: the outbox, notifications and preferences, webhook
subscriptions and deliveries, the feed cursor, and the API's idempotency keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.kinds import Kinds
from departments.models import Department
from processes.models.cases import Case, CaseEvent


class OutboxEntry(models.Model):
    """The transactional outbox: a fact somebody must be told about, written in the same transaction
    as the change that causes it (so nothing is lost when the broker or the mail server is down), with
    a unique de-duplication key (so nothing is queued twice). It holds the kind, the ids and a small
    JSON snapshot of the facts; who receives it and in which words is decided at delivery, where each
    recipient gets a `Notification` of its own."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("addressed")

    kind = models.CharField(_("kind"), max_length=30)
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    facts = models.JSONField(_("facts"), default=dict)
    dedup_key = models.CharField(_("de-duplication key"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # No clock defaults: the writer's `at` (a replayed or simulated time must find its own rows due).
    created_at = models.DateTimeField(_("created at"))
    addressed_at = models.DateTimeField(_("addressed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox entries")
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="outbox_pending"),
        ]

    def __str__(self) -> str:
        return self.dedup_key


# Every kind of notification: the engine's (`Notification.Kind`) and those another app owns, registered
# by it (`NOTIFICATION_KINDS.add_choices`) next to the `KindHandler` that addresses and words them.
NOTIFICATION_KINDS = Kinds(max_length=30)


def notification_kinds() -> list[tuple[str, str]]:
    """The choices of `Notification.kind` and `NotificationPreference.kind` (read when used: no
    migration for a new kind)."""
    return NOTIFICATION_KINDS.choices()


class Notification(models.Model):
    """One message to one recipient, made from an `OutboxEntry` at delivery, rendered in the
    recipient's language and marked as sent on its own."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        DEAD = "dead", _("dead")
        SKIPPED = "skipped", _("skipped (recipient opted out)")

    class Kind(models.TextChoices):
        HANDOFF_ARRIVED = "handoff_arrived", _("a handoff arrived in your department")
        DUE_SOON = "due_soon", _("due soon")
        BREACHED = "breached", _("breached")
        ESCALATED = "escalated", _("escalated")
        RETURNED = "returned", _("returned to you")
        REOPENED = "reopened", _("case reopened")
        COMPENSATION_APPROVAL = "compensation_approval", _("compensation awaiting approval")
        WEBHOOK_DISABLED = "webhook_disabled", _("webhook subscription disabled")

    # The engine's kinds above and those other apps register (evaluations.reviews.emails).
    kind = models.CharField(_("kind"), max_length=30, choices=notification_kinds, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    recipient = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    # Filled when the message is rendered, at delivery: what the recipient was sent.
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    dedup_key = models.CharField(_("de-duplication key"), max_length=200, unique=True)
    entry = models.ForeignKey(
        OutboxEntry, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    # What only this recipient's message needs (e.g. the departments a review e-mail speaks of).
    context = models.JSONField(_("context"), default=dict, blank=True)
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="notification_due"),
            models.Index(fields=["status", "created_at"], name="notification_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} ({self.status})"


NOTIFICATION_KINDS.add_choices(Notification.Kind)


class NotificationPreference(models.Model):
    """A user's choice per kind; no row means e-mail is on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=notification_kinds)
    email = models.BooleanField(_("send e-mail"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="unique_notification_preference")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}: {'on' if self.email else 'off'}"


# -- integrations: outbound webhooks ---------------------------------------------------------------
class WebhookSubscription(models.Model):
    """An integration's endpoint: the events it wants, of the cases its departments may read.

    Scope is that of a token acting for `departments`: a case is delivered once it has been through
    one of them (or to every case with `all_departments`, as for the quality office)."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    # Standard Webhooks secrets ("whsec_" + base64). During a rotation both the new and the previous
    # secret sign every message, until `previous_secret_expires_at`.
    secret = models.CharField(_("secret"), max_length=200)
    previous_secret = models.CharField(_("previous secret"), max_length=200, blank=True)
    previous_secret_expires_at = models.DateTimeField(_("previous secret valid until"), null=True, blank=True)
    event_kinds = models.JSONField(
        _("event kinds"), default=list, blank=True, help_text=_("Empty: every kind of case event.")
    )
    departments = models.ManyToManyField(
        Department, verbose_name=_("departments"), blank=True, related_name="+"
    )
    all_departments = models.BooleanField(_("all departments"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("disabled because"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def signing_secrets(self, at) -> list[str]:
        secrets = [self.secret]
        if self.previous_secret and (
            self.previous_secret_expires_at is None or self.previous_secret_expires_at > at
        ):
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(models.Model):
    """One case event for one subscription: made after commit from the change feed, signed and sent
    in a transaction of its own, retried with backoff, dead after the last attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        DEAD = "dead", _("dead")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(CaseEvent, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # The message as first sent; a retry sends the same bytes under the same webhook-id.
    body = models.TextField(_("body"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="one_delivery_per_event")
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_due"),
            models.Index(
                fields=["subscription", "case", "event"],
                condition=Q(status="pending"),
                name="webhook_case_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}/{self.event_id} ({self.status})"

    @property
    def webhook_id(self) -> str:
        return f"evt_{self.event_id}_{self.subscription_id}"


class FeedCursor(models.Model):
    """Where a consumer inside Baton (the webhook addressing) has read the change feed up to."""

    name = models.CharField(max_length=50, unique=True)
    position = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` seen on a POST, per credential: the request's fingerprint and, once
    answered, the status and bytes to replay. Kept 24 hours (`processes.api.idempotency`)."""

    owner = models.CharField(max_length=64)  # a hash of the credential (token) or the session user
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    done = models.BooleanField(default=False)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="unique_idempotency_key")]

    def __str__(self) -> str:
        return self.key
