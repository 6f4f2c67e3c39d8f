"""The desk's own records on cases: attachments, linked cases, saved queue views and reply templates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes.models.cases import Case
from processes.models.definitions import ServiceProcess


def attachment_path(instance: Attachment, filename: str) -> str:
    """Stored under the case and a random name: the customer's file name never reaches the storage."""
    import uuid

    return f"attachments/{instance.case_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file added to a case (a statement, a screenshot, a call recording). Added only through
    `processes.attachments.attachment_add`: the bytes go to Django's default storage."""

    class Scan(models.TextChoices):
        NOT_SCANNED = "not_scanned", _("not scanned")
        CLEAN = "clean", _("clean")
        INFECTED = "infected", _("infected")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments", db_index=False)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    scan_status = models.CharField(
        _("virus scan"), max_length=20, choices=Scan.choices, default=Scan.NOT_SCANNED
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]
        indexes = [models.Index(fields=["case", "uploaded_at"], name="attachment_case_time")]

    def __str__(self) -> str:
        return self.original_name


class CaseLink(models.Model):
    """`case` is a duplicate of, or a child of, `target`. Written by `processes.links` only."""

    class Kind(models.TextChoices):
        DUPLICATE_OF = "duplicate_of", _("duplicate of")
        CHILD_OF = "child_of", _("child of")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="links_out", db_index=False)
    target = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="links_in")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("case link")
        verbose_name_plural = _("case links")
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="one_link_of_a_kind_per_case"),
            models.CheckConstraint(condition=~Q(case=models.F("target")), name="case_link_not_to_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.target_id}"


class SavedQueueView(models.Model):
    """A user's named filter of the queue: the query string of the queue page."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_views")
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("saved queue view")
        verbose_name_plural = _("saved queue views")
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="unique_queue_view_name")]

    def __str__(self) -> str:
        return self.name


class ReplyTemplate(models.Model):
    """A standard text of a process for a resolution, a return reason or a comment, in both
    languages; maintained by the quality office, offered in the case page's forms."""

    class Kind(models.TextChoices):
        RESOLUTION = "resolution", _("resolution")
        RETURN_REASON = "return_reason", _("return reason")
        COMMENT = "comment", _("comment")

    process = models.ForeignKey(
        ServiceProcess, verbose_name=_("process"), on_delete=models.CASCADE, related_name="reply_templates"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=100)
    text_zh = models.TextField(_("text (Chinese)"))
    text_en = models.TextField(_("text (English)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["process", "kind", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["process", "kind", "title"], name="unique_reply_template")
        ]

    def __str__(self) -> str:
        return self.title

    def text(self, language: str | None) -> str:
        return self.text_en if (language or "").startswith("en") and self.text_en else self.text_zh
