from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from departments.business_time import Schedule


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value}, code="time_zone")


class BusinessCalendar(models.Model):
    """Working hours of a department in its own time zone, with holidays and make-up working days."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    always_open = models.BooleanField(
        _("24×7"), default=False, help_text=_("Every minute of every day is working time.")
    )
    country = models.CharField(
        _("holiday country"),
        max_length=2,
        blank=True,
        help_text=_("ISO country code whose public holidays this calendar imports, e.g. CN."),
    )
    extra_workday_like = models.PositiveSmallIntegerField(
        _("make-up working days follow"),
        choices=Weekday.choices,
        default=Weekday.MONDAY,
        help_text=_("Whose hours a make-up working day (调休) uses."),
    )

    # Who changed what, when, before and after (the configuration history; append-only).
    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def schedule(self) -> Schedule:
        """Load hours and exceptions in two queries; callers reuse the result within one computation."""
        weekly: dict[int, list[tuple[time, time]]] = {}
        for weekday, start, end in self.hours.values_list("weekday", "start", "end"):
            weekly.setdefault(weekday, []).append((start, time.max if end == time.min else end))
        holidays: set = set()
        extra: set = set()
        for day, kind in self.exceptions.values_list("date", "kind"):
            (holidays if kind == CalendarException.Kind.HOLIDAY else extra).add(day)
        return Schedule(
            tz=self.tz,
            weekly={k: tuple(sorted(v)) for k, v in weekly.items()},
            holidays=frozenset(holidays),
            extra_workdays=frozenset(extra),
            extra_workday_like=self.extra_workday_like,
            always_open=self.always_open,
        )

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return self.schedule().add(start, duration)

    def between(self, start: datetime, end: datetime) -> timedelta:
        return self.schedule().between(start, end)

    def years_with_data(self) -> set[int]:
        return {d.year for d in self.exceptions.dates("date", "year")}


class WorkingHours(models.Model):
    """One shift of a weekday. Split shifts are several rows; an end of 00:00 means midnight."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=BusinessCalendar.Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"), help_text=_("00:00 means midnight at the end of the day."))

    # Who changed what, when, before and after (the configuration history; append-only).
    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "weekday", "start"], name="unique_shift_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        if self.end != time.min and self.end <= self.start:
            raise ValidationError({"end": _("A shift must end after it starts.")}, code="inverted")


class CalendarException(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("holiday")
        EXTRA_WORKDAY = "extra_workday", _("make-up working day")

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)
    source = models.CharField(
        _("source"), max_length=50, blank=True, help_text=_("Where the entry came from, e.g. holidays:CN.")
    )

    # Who changed what, when, before and after (the configuration history; append-only).
    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="unique_exception_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class Department(models.Model):
    code = models.SlugField(
        _("code"), max_length=50, unique=True, allow_unicode=False, help_text=_("Stable, e.g. CALL_CENTER.")
    )
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("business calendar"),
        on_delete=models.PROTECT,
        related_name="departments",
    )
    team_email = models.EmailField(_("team e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="departments", blank=True
    )

    # Who changed what, when, before and after (the configuration history; append-only).
    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]
        permissions = [
            ("view_all_departments", _("Can see the work of all departments")),
            ("act_for_all_departments", _("Can act for any department")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": _("A department cannot be its own ancestor.")}, code="cycle")
            ancestor = ancestor.parent


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("member")
        LEAD = "lead", _("lead")
        INSPECTOR = "inspector", _("inspector")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.MEMBER, db_index=True
    )

    # Who changed what, when, before and after (the configuration history; append-only).
    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "department", "role"], name="unique_membership_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department.code} ({self.get_role_display()})"


class Heartbeat(models.Model):
    """Proof that beat → broker → worker works: the worker stamps it, /readyz reports it."""

    WORKER = "worker"

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField(default=timezone.now)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class UserSettings(models.Model):
    """Per-user preferences the product needs beyond Django's user: the language of their e-mails."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="baton_settings"
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")

    class Meta:
        verbose_name = _("user settings")
        verbose_name_plural = _("user settings")

    def __str__(self) -> str:
        return f"{self.user}: {self.language}"


class AppendOnlyQuerySet(models.QuerySet):
    """For the tables auditors rely on: no bulk update or delete through the ORM."""

    def update(self, **kwargs):
        raise TypeError(f"{self.model._meta.label} is append-only.")

    def delete(self):
        raise TypeError(f"{self.model._meta.label} is append-only.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError(f"{self._meta.label} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{self._meta.label} is append-only.")


class AuditEntry(AppendOnlyModel):
    """Who did what, when, from where: logins, failed logins and every view of unmasked customer data.

    Append-only like the case timeline (on PostgreSQL a trigger refuses UPDATE and DELETE)."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("login")
        LOGIN_FAILED = "login_failed", _("failed login")
        LOGOUT = "logout", _("logout")
        PII_VIEW = "pii_view", _("view of unmasked customer data")
        REFUSED_LOOKUP = "refused_lookup", _("refused filter on customer data")
        CUSTOMER_LOOKUP = "customer_lookup", _("lookup of a customer's cases")
        ATTACHMENT_DOWNLOAD = "attachment_download", _("attachment downloaded")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(_("username"), max_length=150, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object"), max_length=100, blank=True)
    detail = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.username}"


class ConfigStamp(models.Model):
    """One row whose value changes whenever a calendar, a department or a process definition changes.

    Every web and worker process keeps calendars and process definitions in memory and compares this
    value, read inside a statement it runs anyway, with the one its copy was loaded under. Database
    triggers set it (a fresh random number, so that a rolled-back change can never bring an old value
    back to mean new data), so every write path counts: the admin, commands, imports and raw SQL.
    """

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("configuration stamp")
        verbose_name_plural = _("configuration stamps")

    def __str__(self) -> str:
        return str(self.value)


class ApiKey(models.Model):
    """A named API key of an integration user. Only a SHA-256 hash of the key is stored (the key is
    256 random bits, so the hash cannot be reversed or guessed): a copy of this table authenticates
    nobody. The key is shown once, when issued; afterwards only its prefix identifies it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["user", "name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
