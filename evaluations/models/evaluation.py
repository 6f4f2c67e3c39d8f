"""Quality evaluations: KPI definitions, customer feedback, three-level inspections (三级质检) and the
periodic evaluation of each department.

The definitions (KPIs, scorecards) are edited by the quality office; everything else is written by
the services in `evaluations/services.py` only. What each KPI computes is `docs/kpis.md`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from departments.models import Department
from evaluations.periods import PeriodKind
from processes.models import Case


class Direction(models.TextChoices):
    HIGHER = "higher", _("higher is better")
    LOWER = "lower", _("lower is better")


class Kpi(models.Model):
    """One built-in KPI: its computation is fixed by `code`; name, target, weight and the active flag
    are the quality office's to edit. Evaluations copy target and weight when they are computed."""

    class Code(models.TextChoices):
        RESPONSE_SLA_RATE = "response_sla_rate", _("response SLA rate")
        RESOLUTION_SLA_RATE = "resolution_sla_rate", _("resolution SLA rate")
        MEDIAN_MINUTES_TO_ACCEPT = "median_minutes_to_accept", _("median business minutes to accept")
        P90_MINUTES_TO_ACCEPT = "p90_minutes_to_accept", _("p90 business minutes to accept")
        BOUNCE_RATE = "bounce_rate", _("bounce-back rate")
        REOPEN_RATE = "reopen_rate", _("reopen rate")
        REPEAT_COMPLAINT_RATE = "repeat_complaint_rate", _("repeat complaint rate")
        CSAT_AVG = "csat_avg", _("CSAT average")
        NPS = "nps", _("NPS")
        QA_SCORE = "qa_score", _("QA inspection score")
        VOLUME = "volume", _("volume")

    class Unit(models.TextChoices):
        PERCENT = "percent", _("%")
        MINUTES = "minutes", _("business minutes")
        SCORE_5 = "score_5", _("score 1–5")
        NPS = "nps", _("NPS −100…100")
        SCORE_100 = "score_100", _("score 0–100")
        COUNT = "count", _("count")

    code = models.CharField(_("code"), max_length=40, choices=Code.choices, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    unit = models.CharField(_("unit"), max_length=20, choices=Unit.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    target = models.DecimalField(
        _("target"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty: informational only (no met/not met, not part of the overall score)."),
    )
    weight = models.DecimalField(
        _("weight"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Relative weight in the overall score; 0 leaves the KPI out of it."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    # Who changed what, when, before and after (the configuration history; append-only).
    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")
        ordering = ["order", "code"]
        constraints = [models.CheckConstraint(condition=Q(weight__gte=0), name="kpi_weight_not_negative")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        if self.direction == Direction.LOWER and self.target is not None and self.target < 0:
            raise ValidationError({"target": _("A lower-is-better target cannot be negative.")})


class CustomerFeedback(models.Model):
    """A survey answer about a case: CSAT 1–5 and/or NPS 0–10. One per case and survey."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        PHONE = "phone", _("phone call")
        MOBILE_APP = "mobile_app", _("mobile app")
        WECHAT = "wechat", _("WeChat")
        EMAIL = "email", _("e-mail")
        WEB = "web", _("web")
        BRANCH = "branch", _("branch")
        OTHER = "other", _("other")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="feedback")
    survey_id = models.CharField(_("survey id"), max_length=100)
    csat = models.PositiveSmallIntegerField(
        _("CSAT (1–5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(
        _("NPS answer (0–10)"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    comment = models.TextField(_("comment"), blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.OTHER)
    source = models.CharField(_("source system"), max_length=50, blank=True)
    responded_at = models.DateTimeField(_("answered at"), default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer feedback")
        verbose_name_plural = _("customer feedback")
        ordering = ["-responded_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "survey_id"], name="unique_feedback_case_survey"),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5), name="feedback_csat_range"
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10), name="feedback_nps_range"
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=False) | Q(nps__isnull=False), name="feedback_has_an_answer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.survey_id}: CSAT {self.csat} NPS {self.nps}"


class Level(models.TextChoices):
    """The three levels of 三级质检."""

    SELF = "self", _("self-check")
    DEPARTMENT = "department", _("department check")
    QUALITY_OFFICE = "quality_office", _("quality-office check")


class Scorecard(models.Model):
    """Weighted criteria an inspection scores a case against, and how much each level's inspections
    weigh in a department's QA score."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    weight_self = models.PositiveSmallIntegerField(_("weight of self-checks"), default=20)
    weight_department = models.PositiveSmallIntegerField(_("weight of department checks"), default=30)
    weight_quality_office = models.PositiveSmallIntegerField(_("weight of quality-office checks"), default=50)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_self__gt=0) | Q(weight_department__gt=0) | Q(weight_quality_office__gt=0),
                name="scorecard_some_level_weight",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def level_weight(self, level: str) -> int:
        return getattr(self, f"weight_{level}")

    def clean(self) -> None:
        if not (self.weight_self or self.weight_department or self.weight_quality_office):
            raise ValidationError(_("At least one level needs a weight above zero."))


class ScorecardCriterion(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="criteria")
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1, validators=[MinValueValidator(1)])
    max_score = models.PositiveSmallIntegerField(
        _("maximum score"), default=10, validators=[MinValueValidator(1)]
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["scorecard", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "code"], name="unique_criterion_code"),
            models.CheckConstraint(condition=Q(weight__gte=1, max_score__gte=1), name="criterion_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (×{self.weight}, ≤{self.max_score})"


class Inspection(models.Model):
    """One case inspected for one department at one level. Assigned (by sampling or by hand), then
    completed with a score per criterion; its 0–100 score is computed from them."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("assigned")
        COMPLETED = "completed", _("completed")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="inspections"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="inspections"
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices, db_index=True)
    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.PROTECT, related_name="inspections"
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspector"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspections",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ASSIGNED, db_index=True
    )
    # The inspected work: the inspection counts in the evaluation period of the case's resolution.
    case_resolved_at = models.DateTimeField(_("case resolved at"), db_index=True)
    # Set when the inspection came from sampling a period.
    period_kind = models.CharField(
        _("sampled for period"), max_length=10, choices=PeriodKind.choices, blank=True
    )
    period_start = models.DateField(_("sampled period start"), null=True, blank=True)
    score = models.DecimalField(
        _("score (0–100)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    # Copied from the scorecard at completion, so re-weighting levels never rewrites past QA scores.
    level_weight = models.PositiveSmallIntegerField(_("level weight"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-assigned_at", "-pk"]
        permissions = [
            ("inspect_as_quality_office", _("Can inspect at the quality-office level")),
            ("sample_inspections", _("Can sample cases for inspection")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "department", "level"], name="unique_inspection_case_department_level"
            ),
            models.CheckConstraint(
                condition=Q(status="assigned") | Q(score__isnull=False, completed_at__isnull=False),
                name="completed_inspection_has_score",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "status", "case_resolved_at"], name="inspection_dept_period"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.department_id} {self.level} ({self.status})"


class InspectionScore(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(ScorecardCriterion, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(
        _("score"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    # Copied so that the computed score stays explainable if the criterion is edited later.
    max_score = models.PositiveSmallIntegerField(_("maximum score"))
    weight = models.PositiveSmallIntegerField(_("weight"))

    class Meta:
        verbose_name = _("criterion score")
        verbose_name_plural = _("criterion scores")
        ordering = ["inspection", "criterion__order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "criterion"], name="unique_inspection_criterion"),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=models.F("max_score")), name="score_within_maximum"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.score}/{self.max_score}"


class EvaluationRun(models.Model):
    """One computation of one period for all departments. Its row is what concurrent recomputes of
    the same period lock, so they run one after the other."""

    kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    as_of = models.DateTimeField(_("as of"), null=True, blank=True)
    departments = models.PositiveIntegerField(_("departments"), default=0)

    class Meta:
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")
        ordering = ["-period_start", "kind"]
        constraints = [models.UniqueConstraint(fields=["kind", "period_start"], name="unique_evaluation_run")]

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start}"


class Evaluation(models.Model):
    """One department × one period: a score per KPI, an overall weighted score and a grade."""

    class Grade(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"
        D = "D", "D"
        NONE = "", _("no score")

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="evaluations"
    )
    kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices, db_index=True)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"), help_text=_("Last day of the period."))
    overall_score = models.DecimalField(
        _("overall score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True, db_index=True)
    computed_at = models.DateTimeField(_("computed at"))
    as_of = models.DateTimeField(
        _("as of"), help_text=_("Handoffs still undecided at this time were left out of the SLA rates.")
    )

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-period_start", "kind", "department__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "kind", "period_start"], name="unique_evaluation_department_period"
            ),
        ]
        indexes = [models.Index(fields=["kind", "period_start"], name="evaluation_period")]

    def __str__(self) -> str:
        from evaluations.periods import Period

        return f"{self.department.code} {Period(self.kind, self.period_start).label}"


class EvaluationScore(models.Model):
    """One KPI of one evaluation, with the target, weight and direction it was computed with."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="scores")
    kpi_code = models.CharField(_("KPI"), max_length=40, choices=Kpi.Code.choices)
    value = models.DecimalField(
        _("value"), max_digits=14, decimal_places=2, null=True, blank=True, help_text=_("Empty: no data.")
    )
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=2, null=True, blank=True)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    unit = models.CharField(_("unit"), max_length=20, choices=Kpi.Unit.choices)
    met = models.BooleanField(_("target met"), null=True, blank=True)
    points = models.DecimalField(
        _("points (0–100)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("min(attainment, 1) × 100: what the KPI contributes to the overall score."),
    )
    sample_size = models.PositiveIntegerField(_("sample size"), default=0)

    class Meta:
        verbose_name = _("KPI score")
        verbose_name_plural = _("KPI scores")
        ordering = ["evaluation", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "kpi_code"], name="unique_evaluation_kpi")
        ]

    def __str__(self) -> str:
        return f"{self.kpi_code}: {self.value}"
