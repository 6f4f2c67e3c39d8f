"""The review e-mails and the action reminders, through the transactional outbox.

Each recipient gets one e-mail per review, ever (`review:<review id>:<user id or address>`, unique in
the outbox), rendered in their language (translation.override) from the review's findings: a
department lead their departments' scorecards, findings and open actions; the quality office (and the
cycle's extra addresses) every department in one table and the handoff-flow hot spots. HTML with a
plain-text part, links into the admin (settings.SITE_URL), customer data masked (the findings hold
nothing else). Rows are written in the caller's transaction; `notifications.muted()` silences them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from departments.models import Membership
from evaluations.models import Kpi, Level
from evaluations.reviews.findings import findings_in_scope
from evaluations.reviews.models import ImprovementAction, ImprovementReview
from processes import notifications
from processes.models import NOTIFICATION_KINDS
from processes.notifications import Recipient


class NotificationKind(models.TextChoices):
    """The notification kinds of the reviews, registered with the engine's (no migration for a new one)."""

    REVIEW = "review", gettext_lazy("improvement review")
    ACTION_REMINDER = "action_reminder", gettext_lazy("improvement action reminder")


NOTIFICATION_KINDS.add_choices(NotificationKind)
Kind = NotificationKind
OPEN_ACTIONS_SHOWN = 30
# The e-mail summarises; the review page has every row.
LINES_SHOWN = 5
UNIT_SUFFIX = {Kpi.Unit.PERCENT: "%"}


# -- links ------------------------------------------------------------------------------------------
def review_url(review_id: int) -> str:
    return settings.SITE_URL + reverse("admin:evaluations_improvementreview_change", args=[review_id])


def action_url(action_id: int) -> str:
    return settings.SITE_URL + reverse("admin:evaluations_improvementaction_change", args=[action_id])


def my_actions_url() -> str:
    return settings.SITE_URL + reverse("admin:evaluations_improvementaction_changelist") + "?mine=1"


# -- formatting (in the active language) -----------------------------------------------------------
def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def department_name(findings: dict[str, Any], code: str | None) -> str:
    if code is None:
        return _("intake")
    names = findings.get("names", {}).get(code) or {}
    return (names.get("name_en") if _english() else None) or names.get("name") or code


def kpi_name(findings: dict[str, Any], code: str) -> str:
    names = findings.get("kpis", {}).get(code) or {}
    name = (names.get("name_en") if _english() else None) or names.get("name")
    if name:
        return name
    return str(Kpi.Code(code).label) if code in Kpi.Code.values else code


def number(value: str | Decimal | None, unit: str = "") -> str:
    """A KPI value for people: `92.5%`, `35 min`, `4.25`; an em dash for no data."""
    if value is None or value == "":
        return "—"
    text = f"{Decimal(str(value)):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if unit == Kpi.Unit.PERCENT:
        return f"{text}%"
    if unit == Kpi.Unit.MINUTES:
        return _("%(value)s min") % {"value": text}
    return text


def signed(value: str | None, unit: str = "") -> str:
    if value is None:
        return "—"
    shown = number(value, unit)
    return shown if shown.startswith("-") else f"+{shown}"


def _trend(trend: str | None, change: str | Decimal | None = None, unit: str = "") -> dict[str, str]:
    """How a value moved against the previous period. The arrow is the sign of the change (▲ up, ▼
    down); the colour and the word say whether that is better or worse for this KPI's direction (a
    lower time to accept is better). A count such as the volume has no better or worse: neutral."""
    labels = {"better": _("better"), "worse": _("worse"), "same": _("unchanged")}
    if change is not None and change != "":
        amount = Decimal(str(change))
        arrow = "▲" if amount > 0 else "▼" if amount < 0 else "="
    else:
        arrow = {"better": "▲", "worse": "▼", "same": "="}.get(trend or "", "")
    if unit == Kpi.Unit.COUNT and trend in ("better", "worse"):
        return {"label": _("changed"), "arrow": arrow, "class": "neutral"}
    return {"label": labels.get(trend or "", "—"), "arrow": arrow, "class": trend or "none"}


def _met(met: bool | None) -> str:
    return {True: _("met"), False: _("not met")}.get(met, "—")


def _status(status: str) -> str:
    return (
        str(ImprovementAction.Status(status).label) if status in ImprovementAction.Status.values else status
    )


def _verdict(verdict: str) -> str:
    return _("effective") if verdict == "effective" else _("not effective")


# -- the review e-mail -------------------------------------------------------------------------------
def review_context(review: ImprovementReview, findings: dict[str, Any], audience: str) -> dict[str, Any]:
    """Everything both templates show, formatted in the active language."""
    f = findings
    unit = {code: k.get("unit", "") for code, k in f.get("kpis", {}).items()}
    scorecards = [
        {
            "department": card["department"],
            "name": department_name(f, card["department"]),
            "overall": number(card["overall_score"]),
            "grade": card["grade"] or "—",
            "previous": number(card["previous_overall_score"]),
            "trend": _trend(
                card["trend"],
                None
                if card["overall_score"] is None or card["previous_overall_score"] is None
                else Decimal(card["overall_score"]) - Decimal(card["previous_overall_score"]),
            ),
            "evaluated": card["overall_score"] is not None or bool(card["kpis"]),
            "missed": card["missed"],
            "rows": [
                {
                    "kpi": kpi_name(f, r["kpi"]),
                    "value": number(r["value"], r["unit"]),
                    "target": number(r["target"], r["unit"]),
                    "previous": number(r["previous"], r["unit"]),
                    "change": signed(r["change"], r["unit"]),
                    "trend": _trend(r["trend"], r["change"], r["unit"]),
                    "met": r["met"],
                    "met_label": _met(r["met"]),
                    "sample_size": r["sample_size"],
                }
                for r in card["kpis"]
            ],
        }
        for card in f.get("scorecards", [])
    ]
    breaches = {b["department"]: b for b in f.get("breaches", [])}
    for card in scorecards:
        b = breaches.get(card["department"], {})
        card["breaches"] = b.get("response_breached", 0) + b.get("resolution_breached", 0)
        card["escalated"] = b.get("escalated", 0)

    def flow(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "from": department_name(f, r["from"]),
                "to": department_name(f, r["to"]),
                "count": r["count"],
                "returned": r["returned"],
                "bounce_rate": number(r["bounce_rate"], Kpi.Unit.PERCENT),
                "median": number(r["median_minutes_to_accept"], Kpi.Unit.MINUTES),
            }
            for r in rows
        ]

    def action(r: dict[str, Any]) -> dict[str, Any]:
        kpi_unit = unit.get(r["kpi"], "")
        return {
            "title": r["title"],
            "department": department_name(f, r["department"]),
            "owner": r["owner_name"],
            "kpi": kpi_name(f, r["kpi"]) if r["kpi"] else "—",
            "baseline": number(r["baseline"], kpi_unit),
            "goal": number(r["goal"], kpi_unit),
            "value": number(r.get("value") or r.get("latest"), kpi_unit),
            "due": r["due_date"],
            "status": _status(r["status"]),
            "overdue": r["overdue"],
            "days_overdue": r["days_overdue"],
            "verdict": r.get("verdict", ""),
            "verdict_label": _verdict(r["verdict"]) if r.get("verdict") else "",
            "url": action_url(r["id"]),
        }

    open_actions = f.get("open_actions", [])
    inspections = f.get("inspections") or {}
    levels = dict(Level.choices)
    period = f.get("period", {})
    return {
        "audience": audience,
        "cycle": review.cycle.name,
        "period_label": period.get("label", review.period.label),
        "period_start": period.get("start"),
        "period_end": period.get("end"),
        "previous_label": f.get("previous_period", {}).get("label", ""),
        "scorecards": scorecards,
        "below_target": [
            {
                "department": department_name(f, r["department"]),
                "kpi": kpi_name(f, r["kpi"]),
                "value": number(r["value"], r["unit"]),
                "target": number(r["target"], r["unit"]),
                "gap": signed(r["gap"], r["unit"]),
            }
            for r in f.get("below_target", [])
        ],
        "changes": [
            {
                "department": department_name(f, r["department"]),
                "kpi": kpi_name(f, r["kpi"]),
                "previous": number(r["previous"], r["unit"]),
                "value": number(r["value"], r["unit"]),
                "change": signed(r["change"], r["unit"]),
                "trend": _trend(r["trend"], r["change"], r["unit"]),
            }
            for r in f.get("biggest_changes", [])[:10]
        ],
        "flow_bounce": flow((f.get("flow") or {}).get("by_bounce_rate", [])),
        "flow_slow": flow((f.get("flow") or {}).get("by_time_to_accept", [])),
        "breaches": [
            {
                "department": department_name(f, r["department"]),
                "response": r["response_breached"],
                "resolution": r["resolution_breached"],
                "escalated": r["escalated"],
            }
            for r in f.get("breaches", [])
        ],
        "checked": [action(r) for r in f.get("checked_actions", [])],
        "awaiting": [action(r) for r in f.get("awaiting_check", [])],
        "open_actions": [action(r) for r in open_actions[:OPEN_ACTIONS_SHOWN]],
        "more_actions": max(0, len(open_actions) - OPEN_ACTIONS_SHOWN),
        "overdue_count": len(f.get("overdue_actions", [])),
        "inspections": {
            "sampled": inspections.get("sampled", 0),
            "cases": _sampled_cases(f, inspections.get("cases", []), levels),
        },
        "review_url": review_url(review.pk),
        "actions_url": my_actions_url(),
    }


def _sampled_cases(f: dict[str, Any], rows: list[dict[str, Any]], levels: dict) -> list[dict[str, Any]]:
    """One line per sampled case and department, with the inspection levels it is sampled for (the
    findings hold one row per inspection: a case inspected at three levels is one case)."""
    cases: dict[tuple[str, str], dict[str, Any]] = {}
    for c in rows:
        line = cases.setdefault(
            (c["case"], c["department"]),
            {
                "case": c["case"],
                "department": department_name(f, c["department"]),
                "customer": c["customer"],
                "levels": [],
            },
        )
        level = str(levels.get(c["level"], c["level"]))
        if level not in line["levels"]:
            line["levels"].append(level)
    separator = ", " if _english() else "、"
    ladder = [str(label) for label in levels.values()]  # self-check, department, quality office
    return [
        {
            **line,
            "levels": separator.join(
                sorted(line["levels"], key=lambda x: ladder.index(x) if x in ladder else 9)
            ),
        }
        for line in list(cases.values())[:20]
    ]


def summary_context(context: dict[str, Any]) -> dict[str, Any]:
    """What the e-mail shows of the review: counts and the few lines that need attention first, each
    list cut at LINES_SHOWN with how many more the review page has. A department without an evaluation
    (the quality office itself handles no handoffs) has no line: the review page lists it."""
    evaluated = [c for c in context["scorecards"] if c["evaluated"]]
    grades: dict[str, int] = {}
    for card in evaluated:
        grades[card["grade"]] = grades.get(card["grade"], 0) + 1
    attention = sorted(
        (
            c
            for c in evaluated
            if c["grade"] in ("C", "D", "—") or c["trend"]["class"] == "worse" or c["missed"]
        ),
        key=lambda c: (Decimal(c["overall"]) if c["overall"] != "—" else Decimal(-1), c["name"]),
    )

    def cut(rows: list) -> tuple[list, int]:
        return rows[:LINES_SHOWN], max(0, len(rows) - LINES_SHOWN)

    below, below_more = cut(context["below_target"])
    attention, attention_more = cut(attention)
    overdue = [a for a in context["open_actions"] if a["overdue"]]
    overdue_shown, overdue_more = cut(overdue)
    return {
        "evaluated_count": len(evaluated),
        "grade_counts": " · ".join(f"{grade} {n}" for grade, n in sorted(grades.items())),
        "attention": attention,
        "attention_more": attention_more,
        "below_shown": below,
        "below_more": below_more,
        "breach_total": sum(c["breaches"] for c in context["scorecards"]),
        "escalation_total": sum(c["escalated"] for c in context["scorecards"]),
        "hot_spots": (context["flow_bounce"] + context["flow_slow"])[:LINES_SHOWN],
        "overdue_shown": overdue_shown,
        "overdue_more": overdue_more + context["more_actions"],
        "open_count": len(context["open_actions"]) + context["more_actions"],
    }


def render_review(
    review: ImprovementReview, recipient: Recipient, codes: set[str] | None
) -> tuple[str, str, str]:
    """(subject, text, html) for one recipient: `codes` None is the quality office's overview."""
    with translation.override(recipient.language):
        findings = findings_in_scope(review.findings, codes)
        audience = "office" if codes is None else "lead"
        context = review_context(review, findings, audience)
        if audience == "office":
            who = _("all departments")
        else:
            who = (
                "、".join(c["name"] for c in context["scorecards"])
                if not _english()
                else ", ".join(c["name"] for c in context["scorecards"])
            )
        headline = _("Improvement review %(period)s: %(departments)s") % {
            "period": context["period_label"],
            "departments": who,
        }
        # render_to_string has no request, hence no i18n context processor: give the language.
        context.update(
            summary_context(context),
            LANGUAGE_CODE=recipient.language,
            headline=headline,
            action_url=context["review_url"],
            action_label=_("Open the review"),
        )
        subject = f"[{review.cycle.name}] {headline}"
        return (
            subject,
            render_to_string("evaluations/email/review.txt", context),
            render_to_string("evaluations/email/review.html", context),
        )


def review_recipients(review: ImprovementReview) -> list[tuple[Recipient, set[str] | None]]:
    """Who gets the review e-mail and which departments it covers for them (None: all, the overview).
    One entry per address: the quality office's overview wins over a lead's own scorecard."""
    cycle = review.cycle
    department_codes = dict(review.departments.values_list("pk", "code"))
    chosen: dict[str, tuple[Recipient, set[str] | None]] = {}
    if cycle.notify_quality_office:
        for r in notifications.quality_office_recipients(Kind.REVIEW):
            chosen.setdefault(r.email.lower(), (r, None))
    for address in cycle.extra_recipients.split():
        chosen.setdefault(address.lower(), (Recipient(None, address, settings.LANGUAGE_CODE), None))
    if cycle.notify_leads:
        leads = notifications.department_recipients(department_codes, [Membership.Role.LEAD], Kind.REVIEW)
        for department_id, people in sorted(leads.items()):
            for r in people:
                _first, codes = chosen.setdefault(r.email.lower(), (r, set()))
                if codes is not None:
                    codes.add(department_codes[department_id])
    return sorted(chosen.values(), key=lambda item: item[0].email.lower())


def queue_review_emails(review: ImprovementReview, *, at: datetime) -> int:
    """One outbox entry for the review; its recipients and their words are worked out at delivery.
    Returns how many e-mails it will make (none when notifications are muted, e.g. the demo)."""
    if notifications.muted_now():
        return 0
    notifications.enqueue([notifications.entry(Kind.REVIEW, f"review:{review.pk}", at=at, review=review.pk)])
    return len(review_recipients(review))


def _address_reviews(entries: list) -> dict[int, list[tuple[Recipient, dict]]]:
    reviews = _reviews(entries)
    result = {}
    for e in entries:
        review = reviews.get(e.facts["review"])
        people = review_recipients(review) if review is not None else []
        result[e.pk] = [(r, {"departments": None if codes is None else sorted(codes)}) for r, codes in people]
    return result


def _reviews(entries: list) -> dict[int, ImprovementReview]:
    ids = {e.facts["review"] for e in entries}
    return ImprovementReview.objects.select_related("cycle").in_bulk(ids)


def _render_review_entry(e, recipient: Recipient, context: dict, reviews: dict) -> tuple[str, str, str]:
    codes = context.get("departments")
    return render_review(reviews[e.facts["review"]], recipient, None if codes is None else set(codes))


notifications.register(
    Kind.REVIEW,
    notifications.KindHandler(address=_address_reviews, prepare=_reviews, render=_render_review_entry),
)


# -- the action reminders ----------------------------------------------------------------------------
def render_action_reminder(
    action: ImprovementAction, recipient: Recipient, today: date, catalogue: dict[str, Kpi] | None = None
) -> tuple[str, str, str]:
    if catalogue is None:
        catalogue = {k.code: k for k in Kpi.objects.filter(code=action.kpi_code)}
    with translation.override(recipient.language):
        overdue = action.is_overdue(today)
        days = (today - action.due_date).days if overdue else (action.due_date - today).days
        if overdue:
            headline = ngettext(
                "Improvement action overdue by %(days)d day: %(title)s",
                "Improvement action overdue by %(days)d days: %(title)s",
                days,
            ) % {"days": days, "title": action.title}
        else:
            headline = _("Improvement action due on %(date)s: %(title)s") % {
                "date": action.due_date.isoformat(),
                "title": action.title,
            }
        department = action.department
        row = catalogue.get(action.kpi_code)
        kpi = ""
        if row is not None:
            kpi = (row.name_en if _english() and row.name_en else row.name) or action.kpi_code
        unit = row.unit if row is not None else ""
        context = {
            "LANGUAGE_CODE": recipient.language,
            "headline": headline,
            "action": action,
            "overdue": overdue,
            "department": (department.name_en if _english() and department.name_en else department.name),
            "review": f"{action.review.cycle.name} {action.review.period.label}",
            "status": _status(action.status),
            "kpi": kpi,
            "baseline": number(action.baseline, unit),
            "goal": number(action.goal, unit),
            "action_url": action_url(action.pk),
            "action_label": _("Open the action"),
            "alert": overdue,
            "actions_url": my_actions_url(),
        }
        return (
            f"[Baton] {headline}",
            render_to_string("evaluations/email/action_reminder.txt", context),
            render_to_string("evaluations/email/action_reminder.html", context),
        )


def queue_action_reminders(
    actions: Iterable[ImprovementAction], *, today: date, at: datetime | None = None
) -> int:
    """One outbox entry per action and day; the owner, and for an overdue action the leads of its
    department too, are found at delivery (`action-reminder:<id>:<day>:<recipient>`)."""
    at = at or timezone.now()
    entries = [
        notifications.entry(
            Kind.ACTION_REMINDER,
            f"action-reminder:{action.pk}:{today.isoformat()}",
            at=at,
            action=action.pk,
            today=today.isoformat(),
        )
        for action in actions
    ]
    notifications.enqueue(entries)
    return len(entries)


def _actions(entries: list) -> dict[str, Any]:
    ids = {e.facts["action"] for e in entries}
    actions = ImprovementAction.objects.select_related("owner", "department", "review").in_bulk(ids)
    return {"actions": actions, "catalogue": {k.code: k for k in Kpi.objects.all()}}


def _address_action_reminders(entries: list) -> dict[int, list[tuple[Recipient, dict]]]:
    """The owner, and for an overdue action the leads of its department; recipients of the whole
    batch in two queries."""
    actions = _actions(entries)["actions"]
    found = [(e, actions[e.facts["action"]]) for e in entries if e.facts["action"] in actions]
    owners = notifications.user_recipients({a.owner_id for _e, a in found}, Kind.ACTION_REMINDER)
    overdue = {a.department_id for e, a in found if a.is_overdue(date.fromisoformat(e.facts["today"]))}
    leads = notifications.department_recipients(overdue, [Membership.Role.LEAD], Kind.ACTION_REMINDER)
    result: dict[int, list[tuple[Recipient, dict]]] = {e.pk: [] for e in entries}
    for e, action in found:
        people = [owners[action.owner_id]] if action.owner_id in owners else []
        if action.is_overdue(date.fromisoformat(e.facts["today"])):
            people += leads.get(action.department_id, [])
        seen: set[str] = set()
        for recipient in people:
            if recipient.email.lower() not in seen:
                seen.add(recipient.email.lower())
                result[e.pk].append((recipient, {}))
    return result


def _render_action_reminder_entry(
    e, recipient: Recipient, context: dict, prepared: dict
) -> tuple[str, str, str]:
    action = prepared["actions"][e.facts["action"]]
    return render_action_reminder(
        action, recipient, date.fromisoformat(e.facts["today"]), prepared["catalogue"]
    )


notifications.register(
    Kind.ACTION_REMINDER,
    notifications.KindHandler(
        address=_address_action_reminders, prepare=_actions, render=_render_action_reminder_entry
    ),
)
