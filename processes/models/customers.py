"""What the bank tells a case's customer: the messages (made from outbox entries at delivery), their
editable words, and the console gateway's outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes.models.cases import Case
from processes.models.delivery import OutboxEntry


class CustomerMessage(models.Model):
    """One message to a case's customer (SMS or e-mail), made from an `OutboxEntry` at delivery. The
    address is not stored: it is read from the case (encrypted there) when the message is sent, and
    the body says nothing personal. Sent or dead on its own, with retries like staff e-mail."""

    class Kind(models.TextChoices):
        INTAKE = "intake", _("intake received")
        EXTENSION = "extension", _("deadline extended")
        RESOLUTION = "resolution", _("resolution")
        SURVEY = "survey", _("satisfaction survey")

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("e-mail")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        DEAD = "dead", _("dead")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(OutboxEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    recipient_masked = models.CharField(_("recipient"), max_length=100, blank=True)
    body = models.TextField(_("text"), blank=True)
    dedup_key = models.CharField(_("de-duplication key"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer message")
        verbose_name_plural = _("customer messages")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="customer_message_due"
            ),
        ]

    def __str__(self) -> str:
        return self.dedup_key


class CustomerMessageTemplate(models.Model):
    """The words of a kind of customer message in one language, edited by the quality office. Without
    a row the built-in words apply (processes/customers/messages.py). Placeholders in braces:
    {reference}, {process}, {deadline}, {reason}, {survey_url}, {reply_code}."""

    kind = models.CharField(_("kind"), max_length=20, choices=CustomerMessage.Kind.choices)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("e-mail subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))

    class Meta:
        verbose_name = _("customer message template")
        verbose_name_plural = _("customer message templates")
        ordering = ["kind", "language"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "language"], name="unique_customer_message_template")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"


class ConsoleSms(models.Model):
    """What the console SMS gateway (the default, for development and tests) was given to send: the
    number masked, the text in full. Nothing leaves the machine."""

    message = models.ForeignKey(CustomerMessage, on_delete=models.SET_NULL, null=True, related_name="+")
    to_masked = models.CharField(_("to"), max_length=40)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("console SMS")
        verbose_name_plural = _("console outbox (SMS)")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.to_masked}: {self.body[:40]}"
