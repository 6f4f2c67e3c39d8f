"""Improvement reviews (PDCA): the cycles that schedule them, the reviews themselves, the improvement
actions they decide and each action's append-only history.

Re-exported by the evaluations.models package, so these are models of the `evaluations` app. Every
write goes through evaluations.reviews.services; nothing here has logic beyond derived properties.
"""

from __future__ import annotations

from datetime import date, time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.models import Department
from evaluations.models.evaluation import Kpi, Level, Scorecard
from evaluations.periods import Period, PeriodKind

__all__ = ["ImprovementAction", "ImprovementActionEvent", "ImprovementReview", "ReviewCycle"]

# The latest day of a new period a review may run on: it must run before that period closes too.
# A quarter is at least 90 days (Q1 of a common year), a month at least 28.
MAX_RUN_DAY = {PeriodKind.WEEKLY: 7, PeriodKind.MONTHLY: 28, PeriodKind.QUARTERLY: 90}


class ReviewCycle(models.Model):
    """What is reviewed, how often, when and for whom. Celery beat runs the due ones
    (`evaluations.tasks.run_due_review_cycles`); a cycle's run for one period happens once."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("frequency"), max_length=10, choices=PeriodKind.choices)
    run_day = models.PositiveSmallIntegerField(
        _("run on day"),
        default=1,
        help_text=_(
            "Day of the new period on which the closed period is reviewed: 1 is its first day (the 1st "
            "of the month, the Monday of the week, 1 January/April/July/October)."
        ),
    )
    run_time = models.TimeField(_("run at"), default=time(8), help_text=_("Asia/Shanghai time."))
    all_departments = models.BooleanField(_("all departments"), default=True)
    departments = models.ManyToManyField(
        Department,
        verbose_name=_("departments"),
        blank=True,
        related_name="review_cycles",
        help_text=_("The departments reviewed when 'all departments' is off."),
    )
    notify_leads = models.BooleanField(_("e-mail the department leads"), default=True)
    notify_quality_office = models.BooleanField(_("e-mail the quality office"), default=True)
    extra_recipients = models.TextField(
        _("other recipients"),
        blank=True,
        help_text=_("E-mail addresses, one per line or separated by commas."),
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("chair"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Chairs the reviews; the inspection sample is drawn in this person's name."),
    )
    inspection_scorecard = models.ForeignKey(
        Scorecard,
        verbose_name=_("inspection scorecard"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    inspection_level = models.CharField(
        _("inspection level"), max_length=20, choices=Level.choices, default=Level.QUALITY_OFFICE
    )
    inspection_sample_size = models.PositiveSmallIntegerField(
        _("cases to inspect per department"), default=0, help_text=_("0: no sampling.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The schedule: the period the next run reviews, and when that run is due.
    next_period_start = models.DateField(_("next period reviewed"), null=True, blank=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("review cycle")
        verbose_name_plural = _("review cycles")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(run_day__gte=1)
                & (
                    Q(kind=PeriodKind.WEEKLY, run_day__lte=MAX_RUN_DAY[PeriodKind.WEEKLY])
                    | Q(kind=PeriodKind.MONTHLY, run_day__lte=MAX_RUN_DAY[PeriodKind.MONTHLY])
                    | Q(kind=PeriodKind.QUARTERLY, run_day__lte=MAX_RUN_DAY[PeriodKind.QUARTERLY])
                ),
                name="review_cycle_run_day_in_period",
            ),
            models.CheckConstraint(
                condition=Q(inspection_sample_size__lte=100), name="review_cycle_sample_size"
            ),
        ]
        indexes = [
            models.Index(fields=["next_run_at"], condition=Q(is_active=True), name="review_cycle_due"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def next_period(self) -> Period | None:
        return Period(self.kind, self.next_period_start) if self.next_period_start else None


class ImprovementReview(models.Model):
    """One run of a cycle for one period: the findings (data, built by
    `evaluations.reviews.findings.findings_build`), the minutes of the meeting and its actions."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    cycle = models.ForeignKey(
        ReviewCycle, verbose_name=_("review cycle"), on_delete=models.PROTECT, related_name="reviews"
    )
    kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"), help_text=_("Last day of the period."))
    departments = models.ManyToManyField(
        Department, verbose_name=_("departments"), related_name="improvement_reviews"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    findings = models.JSONField(_("findings"), default=dict, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    run_at = models.DateTimeField(_("run at"))
    emails = models.PositiveIntegerField(_("e-mails queued"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("improvement review")
        verbose_name_plural = _("improvement reviews")
        ordering = ["-period_start", "cycle", "pk"]
        constraints = [
            # With the row lock on the cycle, this is what makes a period's review happen once.
            models.UniqueConstraint(fields=["cycle", "period_start"], name="unique_review_cycle_period"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle} {self.period.label}"

    @property
    def period(self) -> Period:
        return Period(self.kind, self.period_start)


class ImprovementAction(models.Model):
    """A PDCA action decided in a review: plan (owner, KPI, baseline, goal, due date), do
    (open → in progress → done), check (the next review records the KPI's new value: verified
    when it reaches the goal, not effective otherwise)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        IN_PROGRESS = "in_progress", _("in progress")
        DONE = "done", _("done")
        VERIFIED = "verified", _("verified effective")
        NOT_EFFECTIVE = "not_effective", _("not effective")

    class Kind(models.TextChoices):
        PROCESS_CHANGE = "process_change", _("process change")
        TRAINING = "training", _("training")
        SYSTEM_CHANGE = "system_change", _("system change")
        STAFFING = "staffing", _("staffing")
        POLICY = "policy", _("policy")

    # Still to be done: these can be overdue.
    PENDING = (Status.OPEN, Status.IN_PROGRESS)

    review = models.ForeignKey(
        ImprovementReview, verbose_name=_("review"), on_delete=models.PROTECT, related_name="actions"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="improvement_actions"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="improvement_actions",
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    kpi_code = models.CharField(
        _("KPI"),
        max_length=40,
        choices=Kpi.Code.choices,
        blank=True,
        help_text=_("Empty: the quality office judges the action by hand."),
    )
    baseline = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2, null=True, blank=True)
    goal = models.DecimalField(_("goal"), max_digits=14, decimal_places=2, null=True, blank=True)
    due_date = models.DateField(_("due date"), db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    # The check: the KPI's value in the review that judged the action.
    result_value = models.DecimalField(_("result"), max_digits=14, decimal_places=2, null=True, blank=True)
    result_review = models.ForeignKey(
        ImprovementReview,
        verbose_name=_("checked in review"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checked_actions",
    )
    verified_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["due_date", "pk"]
        permissions = [("verify_improvementaction", _("Can judge whether an improvement action worked"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(kpi_code="") | Q(goal__isnull=False), name="action_kpi_has_goal"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="action_status_due"),
            models.Index(fields=["owner", "status"], name="action_owner_status"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: date | None = None) -> bool:
        from evaluations.periods import today as shanghai_today

        return self.status in self.PENDING and self.due_date < (today or shanghai_today())


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The history of an improvement action is append-only.")

    def delete(self):
        raise TypeError("The history of an improvement action is append-only.")


class ImprovementActionEvent(models.Model):
    """The append-only history of an action (the database refuses UPDATE and DELETE on PostgreSQL)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        STATUS_CHANGED = "status_changed", _("status changed")
        EDITED = "edited", _("edited")
        CHECKED = "checked", _("checked in a review")

    action = models.ForeignKey(ImprovementAction, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    from_status = models.CharField(
        _("from"), max_length=20, choices=ImprovementAction.Status.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=20, choices=ImprovementAction.Status.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    payload = models.JSONField(_("details"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("action event")
        verbose_name_plural = _("action events")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["action", "created_at"], name="action_event_time")]

    def __str__(self) -> str:
        return f"{self.action_id} {self.kind} @ {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("The history of an improvement action is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The history of an improvement action is append-only.")
