"""The operation now, per department: open, pending acceptance, breached, due within the hour, the
ageing of what is open, and today's arrivals against completions by hour.

Four queries whatever the number of departments or handoffs (the departments, one aggregate over
the open handoffs, one over today's arrivals, one over today's completions), each a GROUP BY in the
database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Case as When_
from django.db.models import Count, DateTimeField, F, Q, Value, When
from django.db.models.functions import ExtractHour
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from departments import policy as dept_policy
from departments.models import Department, Membership
from processes.models import CaseEvent, Handoff
from processes.selectors import localized_name

AGEING = (("under_4h", 4), ("4h_to_1d", 24), ("1d_to_3d", 72), ("over_3d", None))


def may_see_live(user) -> bool:
    """Leads (of any department) and whoever sees every department (the quality office)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return (
        dept_policy.sees_all(user) or Membership.objects.filter(user=user, role=Membership.Role.LEAD).exists()
    )


def _departments(user) -> list[Department]:
    found = Department.objects.filter(is_active=True).order_by("code")
    if not dept_policy.sees_all(user):
        found = found.filter(memberships__user=user, memberships__role=Membership.Role.LEAD).distinct()
    return list(found)


@dataclass
class Row:
    department: Department
    label: str
    open: int = 0
    pending: int = 0
    breached: int = 0
    due_within_hour: int = 0
    ageing: dict[str, int] = field(default_factory=dict)


@dataclass
class Live:
    rows: list[Row]
    hours: list[int]
    arrivals: list[int]
    completions: list[int]
    now: datetime


def live_operations(*, user, now: datetime | None = None) -> Live:
    now = now or timezone.now()
    departments = _departments(user)
    ids = [d.pk for d in departments]
    open_q = Q(status__in=Handoff.OPEN_STATUSES)
    # The running clock's due time: the response while pending, the resolution once accepted (none
    # while paused: a paused clock is not about to fall due).
    due = When_(
        When(status=Handoff.Status.PENDING, then=F("response_due_at")),
        When(status=Handoff.Status.ACCEPTED, paused_at__isnull=True, then=F("resolution_due_at")),
        default=Value(None),
        output_field=DateTimeField(),
    )
    ageing = {}
    lower = None
    for name, hours in AGEING:
        condition = Q()
        if lower is not None:
            condition &= Q(requested_at__lte=now - timedelta(hours=lower))
        if hours is not None:
            condition &= Q(requested_at__gt=now - timedelta(hours=hours))
        ageing[f"age_{name}"] = Count("pk", filter=condition)
        lower = hours
    rows = (
        Handoff.objects.filter(open_q, to_department_id__in=ids)
        .annotate(current_due=due)
        .values("to_department_id")
        .annotate(
            open=Count("pk"),
            pending=Count("pk", filter=Q(status=Handoff.Status.PENDING)),
            breached=Count(
                "pk", filter=Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False)
            ),
            due_within_hour=Count(
                "pk", filter=Q(current_due__gt=now, current_due__lte=now + timedelta(hours=1))
            ),
            **ageing,
        )
        .order_by()
    )
    by_department = {r["to_department_id"]: r for r in rows}
    found = []
    for department in departments:
        r = by_department.get(department.pk, {})
        found.append(
            Row(
                department=department,
                label=localized_name(department),
                open=r.get("open", 0),
                pending=r.get("pending", 0),
                breached=r.get("breached", 0),
                due_within_hour=r.get("due_within_hour", 0),
                ageing={name: r.get(f"age_{name}", 0) for name, _hours in AGEING},
            )
        )
    hours, arrivals, completions = _today(ids, now)
    return Live(rows=found, hours=hours, arrivals=arrivals, completions=completions, now=now)


def _today(ids: list[int], now: datetime) -> tuple[list[int], list[int], list[int]]:
    """Handoffs that arrived today (local time) and handoffs completed today, by hour: two range
    scans, of the handoffs' requested_at index and of the timeline's created_at index."""
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    tz = timezone.get_current_timezone()
    arrived = (
        Handoff.objects.filter(requested_at__gte=midnight, requested_at__lte=now, to_department_id__in=ids)
        .annotate(hour=ExtractHour("requested_at", tzinfo=tz))
        .values("hour")
        .annotate(n=Count("pk"))
        .order_by()
    )
    completed = (
        CaseEvent.objects.filter(
            kind=CaseEvent.Kind.HANDOFF_COMPLETED,
            created_at__gte=midnight,
            created_at__lte=now,
            department_id__in=ids,
        )
        .annotate(hour=ExtractHour("created_at", tzinfo=tz))
        .values("hour")
        .annotate(n=Count("pk"))
        .order_by()
    )
    hours = list(range(local.hour + 1))
    arrivals, completions = [0] * len(hours), [0] * len(hours)
    for rows, into in ((arrived, arrivals), (completed, completions)):
        for r in rows:
            if 0 <= r["hour"] < len(hours):
                into[r["hour"]] += r["n"]
    return hours, arrivals, completions


def chart_svg(live: Live) -> str:
    """Arrivals (bars) against completions (a line) by hour today, as inline SVG: attributes only,
    no style attribute and no script, so the production CSP shows it."""
    width, height, pad = 720, 180, 24
    top = max([1, *live.arrivals, *live.completions])
    step = (width - 2 * pad) / max(1, len(live.hours))

    def y(value: int) -> float:
        return height - pad - (height - 2 * pad) * value / top

    bars = format_html_join(
        "",
        '<rect class="live-arrivals" x="{}" y="{}" width="{}" height="{}"><title>{}:00 {}</title></rect>',
        (
            (
                f"{pad + i * step + 2:.1f}",
                f"{y(v):.1f}",
                f"{max(1.0, step - 4):.1f}",
                f"{height - pad - y(v):.1f}",
                h,
                v,
            )
            for i, (h, v) in enumerate(zip(live.hours, live.arrivals, strict=True))
        ),
    )
    points = " ".join(f"{pad + i * step + step / 2:.1f},{y(v):.1f}" for i, v in enumerate(live.completions))
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" class="live-axis">{}</text>',
        (
            (f"{pad + i * step + step / 2 - 6:.1f}", height - 6, h)
            for i, h in enumerate(live.hours)
            if h % 3 == 0
        ),
    )
    return format_html(
        '<svg class="live-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}'
        '<polyline class="live-completions" fill="none" points="{}"></polyline>{}'
        '<text x="{}" y="14" class="live-axis">{}: {}</text></svg>',
        width,
        height,
        _("Arrivals and completions today, by hour"),
        bars,
        points,
        labels,
        pad,
        _("most in an hour"),
        top,
    )
