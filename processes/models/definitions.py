"""The process definitions the quality office edits: processes, their stages, SLA targets and routes."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from departments.models import Department


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
    repeat_window_days = models.PositiveSmallIntegerField(
        _("repeat complaint window (days)"),
        default=30,
        help_text=_("A case of the same customer in this process within these days is a repeat; 0: never."),
    )
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
