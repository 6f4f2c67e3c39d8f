"""Cases, their handoffs, pauses and timeline events: the rows every state change writes."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.kinds import Kinds
from departments.models import AppendOnlyModel, Department
from processes.customers.fields import EncryptedTextField
from processes.models.definitions import Priority, ServiceProcess, Stage


class CurrentTransactionId(models.Func):
    """The writing transaction's id as a column default: PostgreSQL's 64-bit `pg_current_xact_id()`
    (never wraps), so the change feed can tell which rows a still-running transaction may yet add
    (`processes.feed`). SQLite has one writer at a time: 0, and the row id alone orders the feed."""

    allowed_default = True
    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection, **extra):
        return "0", []

    def as_postgresql(self, compiler, connection, **extra):
        return "(pg_current_xact_id()::text::bigint)", []


class ReferenceCounter(models.Model):
    """Per prefix and month; incremented under a row lock so references never collide."""

    prefix = models.CharField(max_length=6)
    period = models.CharField(max_length=6)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "period"], name="unique_reference_counter")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.period}: {self.value}"


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        IN_PROGRESS = "in_progress", _("in progress")
        RESOLVED = "resolved", _("resolved")
        CLOSED = "closed", _("closed")
        CANCELLED = "cancelled", _("cancelled")

    class Channel(models.TextChoices):
        BRANCH = "branch", _("branch")
        PHONE = "phone", _("phone")
        MOBILE_APP = "mobile_app", _("mobile app")
        ONLINE_BANKING = "online_banking", _("online banking")
        WECHAT = "wechat", _("WeChat")
        LETTER = "letter", _("letter")
        REGULATOR = "regulator", _("regulator")

    class Recovery(models.TextChoices):
        NONE = "none", _("none needed")
        APOLOGY = "apology", _("apology")
        EXPLANATION = "explanation", _("explanation")
        FEE_WAIVER = "fee_waiver", _("fee waiver")
        COMPENSATION = "compensation", _("compensation")
        GIFT = "gift", _("courtesy gift")

    class Approval(models.TextChoices):
        NOT_NEEDED = "", _("not needed")
        PENDING = "pending", _("awaiting approval")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    process = models.ForeignKey(
        ServiceProcess, verbose_name=_("process"), on_delete=models.PROTECT, related_name="cases"
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    # Customer data is stored encrypted (processes/customers/crypto.py); the *_key columns hold the
    # blind index (a keyed hash of the normalised value) that exact lookups use.
    customer_id = EncryptedTextField(_("customer id"), blank=True)
    customer_name = EncryptedTextField(_("customer name"), blank=True)
    customer_phone = EncryptedTextField(_("customer phone"), blank=True)
    customer_email = EncryptedTextField(_("customer e-mail"), blank=True)
    customer_phone_key = models.CharField(max_length=64, blank=True, editable=False)
    customer_id_key = models.CharField(max_length=64, blank=True, editable=False)
    repeat_complaint = models.BooleanField(_("repeat complaint"), default=False)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    current_stage = models.ForeignKey(
        Stage,
        verbose_name=_("current stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    current_department = models.ForeignKey(
        Department,
        verbose_name=_("current department"),
        on_delete=models.PROTECT,
        db_index=False,  # case_dept_status starts with it
        null=True,
        blank=True,
        related_name="current_cases",
    )
    due_at = models.DateTimeField(_("end-to-end due"), null=True, blank=True)
    regulatory_deadline = models.DateField(_("regulatory deadline"), null=True, blank=True)
    regulatory_extensions = models.PositiveSmallIntegerField(_("deadline extensions"), default=0)
    # Resolution and service recovery (服务补救).
    resolution = models.TextField(_("resolution"), blank=True)
    recovery_measure = models.CharField(
        _("recovery measure"), max_length=20, choices=Recovery.choices, blank=True
    )
    compensation_amount = models.DecimalField(
        _("compensation amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    compensation_approval = models.CharField(
        _("compensation approval"), max_length=10, choices=Approval.choices, blank=True, default=""
    )
    resolved_stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    source = models.CharField(_("source system"), max_length=50, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("reopen count"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        permissions = [("view_customer_pii", _("Can see customers' personal data unmasked"))]
        constraints = [
            # An external id is the opener's own: unique per opening user (an integration's tokens
            # are its user's), so one caller's ids neither collide with nor reveal another's.
            models.UniqueConstraint(
                fields=["created_by", "source", "external_id"],
                condition=~Q(external_id=""),
                name="unique_case_opener_source_external_id",
            ),
        ]
        # Every index is written by every state change (a change of status is never a HOT update):
        # only those a query uses. Users are deactivated, never deleted, so the foreign keys to
        # them that no query filters on have none. A plain btree for status, not Django's
        # db_index pair with a LIKE index that equality never uses.
        indexes = [
            models.Index(fields=["current_department", "status"], name="case_dept_status"),
            models.Index(fields=["status"], name="case_status"),
            models.Index(fields=["customer_phone_key"], name="case_customer_phone_key"),
            models.Index(fields=["customer_id_key"], name="case_customer_id_key"),
        ]

    def __str__(self) -> str:
        return self.reference


class Handoff(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        COMPLETED = "completed", _("completed")
        RETURNED = "returned", _("returned")
        CANCELLED = "cancelled", _("cancelled")

    class Kind(models.TextChoices):
        ROUTING = "routing", _("routing")
        APPROVAL = "approval", _("compensation approval")

    OPEN_STATUSES = (Status.PENDING, Status.ACCEPTED)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="handoffs")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ROUTING)
    from_department = models.ForeignKey(
        Department,
        verbose_name=_("from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handoffs_out",
    )
    from_stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    to_department = models.ForeignKey(
        Department, verbose_name=_("to"), on_delete=models.PROTECT, related_name="handoffs_in"
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    requested_at = models.DateTimeField(_("requested at"), db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claimed_handoffs",
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.TextField(_("return reason"), blank=True)
    # Targets are copied at request time so that editing a process never rewrites history.
    response_target_seconds = models.PositiveIntegerField(_("response target (business s)"))
    resolution_target_seconds = models.PositiveIntegerField(_("resolution target (business s)"))
    response_due_at = models.DateTimeField(_("response due"), db_index=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), db_index=True)
    response_breached_at = models.DateTimeField(_("response breached at"), null=True, blank=True)
    resolution_breached_at = models.DateTimeField(_("resolution breached at"), null=True, blank=True)
    # 80% of each target, precomputed in business time so that the sweep can select in SQL.
    response_warn_at = models.DateTimeField(_("response due soon from"), null=True, blank=True)
    resolution_warn_at = models.DateTimeField(_("resolution due soon from"), null=True, blank=True)
    response_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("paused business seconds"), default=0)
    # Stored when they happen so that KPIs are plain SQL aggregates.
    seconds_to_accept = models.PositiveIntegerField(_("business seconds to accept"), null=True, blank=True)
    seconds_to_complete = models.PositiveIntegerField(
        _("business seconds to complete"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("handoff")
        # The admin lists handoffs as the staff's work queue: the menu, the page and its title say so.
        verbose_name_plural = _("Queue")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["pending", "accepted"]),
                name="one_open_handoff_per_case",
            ),
        ]
        # As for cases: only the indexes a query uses (each handoff row is updated 2-3 times).
        indexes = [
            models.Index(fields=["status"], name="handoff_status"),
            models.Index(fields=["to_department", "status", "response_due_at"], name="handoff_queue"),
            models.Index(
                fields=["response_due_at"],
                condition=Q(status="pending", response_breached_at=None),
                name="handoff_response_watch",
            ),
            models.Index(
                fields=["resolution_due_at"],
                condition=Q(status__in=["pending", "accepted"], resolution_breached_at=None),
                name="handoff_resolution_watch",
            ),
            models.Index(
                fields=["response_warn_at"],
                condition=Q(status="pending", response_warned_at=None),
                name="handoff_response_warn",
            ),
            models.Index(
                fields=["resolution_warn_at"],
                condition=Q(status__in=["pending", "accepted"], resolution_warned_at=None),
                name="handoff_resolution_warn",
            ),
            models.Index(fields=["escalated_at"], condition=Q(escalation_level=1), name="handoff_level1"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: → {self.to_department_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def is_breached(self) -> bool:
        return bool(self.response_breached_at or self.resolution_breached_at)


class PauseSegment(models.Model):
    """A stretch of time an accepted handoff waited on the customer or an outside party."""

    class Cause(models.TextChoices):
        CUSTOMER = "customer", _("waiting on the customer")
        EXTERNAL = "external", _("waiting on an outside party")

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="pauses")
    cause = models.CharField(_("cause"), max_length=10, choices=Cause.choices)
    note = models.TextField(_("note"), blank=True)
    started_at = models.DateTimeField(_("started at"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    business_seconds = models.PositiveIntegerField(_("business seconds"), null=True, blank=True)

    class Meta:
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["handoff"], condition=Q(ended_at=None), name="one_running_pause_per_handoff"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_cause_display()} from {self.started_at:%Y-%m-%d %H:%M}"


# Call-back handoffs requested by a resolution were once stored with this English marker as their
# note; they now carry none (their stage says what they are). Old rows are shown in the reader's words.
CALL_BACK_NOTE = "call-back"


# A compensation-approval handoff carries the amount to approve as its note: "compensation 800.00".
COMPENSATION_NOTE = re.compile(r"^compensation (?P<amount>-?\d+(?:\.\d+)?)$")


def handoff_note_text(note: str | None) -> str:
    """A handoff's note as people read it: the notes the services write are said in their words."""
    if note == CALL_BACK_NOTE:
        return str(_("call-back after the resolution"))
    approval = COMPENSATION_NOTE.match(note or "")
    if approval:
        return str(_("compensation of %(amount)s to approve")) % {"amount": approval["amount"]}
    return note or ""


# Every kind of timeline event: the engine's (`CaseEvent.Kind`) and those registered next to the service
# that writes them (`EVENT_KINDS.add(value, label, sentence=...)`; the sentence is the timeline's line,
# processes.timeline_text).
EVENT_KINDS = Kinds(max_length=30)


def event_kinds() -> list[tuple[str, str]]:
    """The choices of `CaseEvent.kind` (read when used: no migration for a new kind)."""
    return EVENT_KINDS.choices()


class CaseEvent(AppendOnlyModel):
    """The append-only timeline. Nothing edits or deletes it (the database refuses it too on PostgreSQL)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        HANDOFF_REQUESTED = "handoff_requested", _("handoff requested")
        HANDOFF_ACCEPTED = "handoff_accepted", _("handoff accepted")
        HANDOFF_RETURNED = "handoff_returned", _("handoff returned")
        HANDOFF_COMPLETED = "handoff_completed", _("handoff completed")
        HANDOFF_CLAIMED = "handoff_claimed", _("handoff claimed")
        HANDOFF_CANCELLED = "handoff_cancelled", _("handoff cancelled")
        PAUSED = "paused", _("paused")
        RESUMED = "resumed", _("resumed")
        COMMENT = "comment", _("comment")
        DUE_SOON = "due_soon", _("due soon")
        BREACHED = "breached", _("breached")
        ESCALATED = "escalated", _("escalated")
        COMPENSATION_REQUESTED = "compensation_requested", _("compensation awaiting approval")
        COMPENSATION_APPROVED = "compensation_approved", _("compensation approved")
        COMPENSATION_REJECTED = "compensation_rejected", _("compensation rejected")
        RESOLVED = "resolved", _("resolved")
        CLOSED = "closed", _("closed")
        REOPENED = "reopened", _("reopened")
        CANCELLED = "cancelled", _("cancelled")
        DEADLINE_EXTENDED = "deadline_extended", _("regulatory deadline extended")
        CUSTOMER_NOTIFIED = "customer_notified", _("customer notified")
        FEEDBACK_RECEIVED = "feedback_received", _("feedback received")
        ATTACHMENT_ADDED = "attachment_added", _("attachment added")
        LINKED = "linked", _("case linked")
        CLOSED_AS_DUPLICATE = "closed_as_duplicate", _("closed as a duplicate")

    # event_case_time starts with the case: no index of its own.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
    handoff = models.ForeignKey(
        Handoff, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=event_kinds)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    # Set by the database (the writer's transaction id): the change feed's order and horizon.
    txid = models.BigIntegerField(_("transaction"), db_default=CurrentTransactionId(), editable=False)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["case", "created_at"], name="event_case_time"),
            models.Index(fields=["kind"], name="event_kind"),
            models.Index(fields=["txid", "id"], name="event_feed_position"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} @ {self.created_at:%Y-%m-%d %H:%M}"


EVENT_KINDS.add_choices(CaseEvent.Kind)
