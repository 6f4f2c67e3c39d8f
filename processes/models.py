from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from departments.models import AppendOnlyModel, Department


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


class Priority(models.TextChoices):
    URGENT = "urgent", _("urgent")
    HIGH = "high", _("high")
    NORMAL = "normal", _("normal")
    LOW = "low", _("low")


class ServiceProcess(models.Model):
    class Category(models.TextChoices):
        COMPLAINT = "complaint", _("complaint")
        CARD_DISPUTE = "card_dispute", _("card dispute")
        ACCOUNT_SERVICE = "account_service", _("account service")
        LOAN_SERVICE = "loan_service", _("loan service")
        DIGITAL_INCIDENT = "digital_incident", _("digital-channel incident")
        REGULATOR_COMPLAINT = "regulator_complaint", _("regulator-forwarded complaint")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=30, choices=Category.choices, db_index=True)
    reference_prefix = models.CharField(
        _("reference prefix"),
        max_length=6,
        help_text=_("Case references read PREFIX-YYYYMM-NNNNNN."),
        # A hyphen or lower case would make references ambiguous to read out on the phone.
        validators=[
            RegexValidator(
                r"^[A-Z][A-Z0-9]{0,5}$",
                _("Use 1 to 6 capital letters or digits, starting with a letter (e.g. CMP)."),
            )
        ],
    )
    # End-to-end targets in business hours of the intake department's calendar, by priority.
    e2e_hours_urgent = models.PositiveIntegerField(_("end-to-end target, urgent (h)"), default=8)
    e2e_hours_high = models.PositiveIntegerField(_("end-to-end target, high (h)"), default=24)
    e2e_hours_normal = models.PositiveIntegerField(_("end-to-end target, normal (h)"), default=56)
    e2e_hours_low = models.PositiveIntegerField(_("end-to-end target, low (h)"), default=112)
    # Regulatory deadline in calendar days (《银行业保险业消费投诉处理管理办法》: 15, +15 to 30, +30).
    regulatory_days = models.PositiveSmallIntegerField(_("regulatory deadline (days)"), null=True, blank=True)
    first_extension_days = models.PositiveSmallIntegerField(_("first extension (days)"), default=15)
    second_extension_days = models.PositiveSmallIntegerField(_("second extension (days)"), default=30)
    second_extension_approver = models.ForeignKey(
        Department,
        verbose_name=_("second extension approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    compensation_threshold = models.DecimalField(
        _("compensation needing approval above"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("500.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    compensation_approver = models.ForeignKey(
        Department,
        verbose_name=_("compensation approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reopen_window_days = models.PositiveSmallIntegerField(_("reopen window (days)"), default=30)
    is_active = models.BooleanField(_("active"), default=True)

    # Who changed what, when, before and after (the configuration history; append-only).
    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("service process")
        verbose_name_plural = _("service processes")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def e2e_hours(self, priority: str) -> int:
        return getattr(self, f"e2e_hours_{priority}")


class Stage(models.Model):
    process = models.ForeignKey(ServiceProcess, on_delete=models.CASCADE, related_name="stages")
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("owning department"), on_delete=models.PROTECT, related_name="stages"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_initial = models.BooleanField(_("initial"), default=False)
    is_final = models.BooleanField(_("final"), default=False)
    can_resolve = models.BooleanField(
        _("may resolve"), default=False, help_text=_("The case can be resolved with service recovery here.")
    )

    # Who changed what, when, before and after (the configuration history; append-only).
    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["process", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["process", "code"], name="unique_stage_code"),
            models.UniqueConstraint(
                fields=["process"], condition=Q(is_initial=True), name="one_initial_stage_per_process"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.process.code}/{self.code}"


class StageTarget(models.Model):
    """Golden response time and resolution target of a stage for one priority, in business minutes."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    response_minutes = models.PositiveIntegerField(_("response target (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution target (business minutes)"))

    # Who changed what, when, before and after (the configuration history; append-only).
    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("stage target")
        verbose_name_plural = _("stage targets")
        constraints = [
            models.UniqueConstraint(fields=["stage", "priority"], name="unique_stage_priority_target"),
            models.CheckConstraint(
                condition=Q(response_minutes__gt=0) & Q(resolution_minutes__gte=models.F("response_minutes")),
                name="target_response_within_resolution",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.priority}: {self.response_minutes}/{self.resolution_minutes} min"


class Transition(models.Model):
    process = models.ForeignKey(ServiceProcess, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="transitions_out")
    to_stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="transitions_in")
    is_return = models.BooleanField(_("rework route"), default=False)
    name = models.CharField(_("name"), max_length=200, blank=True)

    # Who changed what, when, before and after (the configuration history; append-only).
    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        ordering = ["process", "from_stage__order", "to_stage__order"]
        constraints = [models.UniqueConstraint(fields=["from_stage", "to_stage"], name="unique_transition")]

    def __str__(self) -> str:
        return f"{self.from_stage.code} → {self.to_stage.code}"

    def clean(self) -> None:
        if self.from_stage_id and self.to_stage_id:
            if self.from_stage_id == self.to_stage_id:
                raise ValidationError(_("A transition must lead to another stage."))
            if self.from_stage.process_id != self.process_id or self.to_stage.process_id != self.process_id:
                raise ValidationError(_("Both stages must belong to the transition's process."))


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
    customer_id = models.CharField(_("customer id"), max_length=64, blank=True)
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True)
    customer_phone = models.CharField(_("customer phone"), max_length=32, blank=True)
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
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
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
        REVIEW = "review", _("improvement review")
        ACTION_REMINDER = "action_reminder", _("improvement action reminder")
        WEBHOOK_DISABLED = "webhook_disabled", _("webhook subscription disabled")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, db_index=True)
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


class NotificationPreference(models.Model):
    """A user's choice per kind; no row means e-mail is on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Notification.Kind.choices)
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


# -- desk productivity: attachments, linked cases, saved queue views, reply templates ---------------
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
