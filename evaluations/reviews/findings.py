"""The findings of an improvement review, as data: built once by `findings_build` when the review runs,
stored as JSON on the review, and read alike by the e-mails, the admin page and the API.

Everything in it is a snapshot of the review's moment: later recomputes of an evaluation, or actions
moving on, do not rewrite what the review found. Numbers are decimal strings (exact, as the API
serialises decimals); departments and KPIs are referred to by code, with their names in the `names`
and `kpis` maps so that every reader can show them in its own language. Customer data appears only
masked. A fixed number of queries, whatever the number of departments.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q

from departments.models import Department
from evaluations import kpis
from evaluations.models import Direction, Evaluation, Inspection, Kpi
from evaluations.periods import TZ, Period
from evaluations.reviews.models import ImprovementAction, ImprovementReview
from processes.models import CaseEvent, Handoff
from processes.policy import mask_name

VERSION = 1
CHANGES_PER_DEPARTMENT = 3
FLOW_HOT_SPOTS = 5
# A department pair with fewer handoffs than this is noise, not a hot spot.
FLOW_MIN_HANDOFFS = 3
INSPECTION_CASES = 100
CENT = Decimal("0.01")


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _pct(part: Decimal, whole: Decimal) -> str | None:
    if not whole:
        return None
    return str((part * 100 / abs(whole)).quantize(CENT, rounding=ROUND_HALF_UP))


def trend(value: Decimal | None, previous: Decimal | None, direction: str) -> str | None:
    """better / worse / same against the previous period (direction-aware); None without both values."""
    if value is None or previous is None:
        return None
    if value == previous:
        return "same"
    rising = value > previous
    return "better" if rising == (direction == Direction.HIGHER) else "worse"


def _period(period: Period) -> dict[str, str]:
    return {
        "kind": period.kind,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "starts_at": period.starts_at.isoformat(),
        "ends_at": period.ends_at.isoformat(),
    }


def findings_build(*, review: ImprovementReview, notes: list[str] | None = None) -> dict[str, Any]:
    """The findings of a review that has its departments and its checked actions: see the module."""
    period = review.period
    previous = period.previous()
    today: date = review.run_at.astimezone(TZ).date()
    department_ids = sorted(review.departments.values_list("pk", flat=True))
    window = kpis.Window(period.starts_at, period.ends_at, period.ends_at)

    catalogue = {k.code: k for k in Kpi.objects.order_by("order", "code")}
    evaluations = {
        (e.department_id, e.period_start): e
        for e in Evaluation.objects.filter(
            kind=period.kind,
            period_start__in=[period.start, previous.start],
            department_id__in=department_ids,
        ).prefetch_related("scores")
    }
    flow = {
        pair: cell
        for pair, cell in kpis.handoff_flow(start=period.starts_at, end=period.ends_at).items()
        if (pair[0] in department_ids or pair[1] in department_ids) and cell.count >= FLOW_MIN_HANDOFFS
    }
    involved = set(department_ids) | {d for pair in flow for d in pair if d is not None}
    departments = {d.pk: d for d in Department.objects.filter(pk__in=involved)}
    code = {pk: d.code for pk, d in departments.items()}

    findings: dict[str, Any] = {
        "version": VERSION,
        "period": _period(period),
        "previous_period": _period(previous),
        "as_of": review.run_at.isoformat(),
        "departments": [code[pk] for pk in sorted(department_ids, key=lambda pk: code[pk])],
        "names": {d.code: {"name": d.name, "name_en": d.name_en} for d in departments.values()},
        "kpis": {
            k.code: {"name": k.name, "name_en": k.name_en, "unit": k.unit, "direction": k.direction}
            for k in catalogue.values()
        },
    }
    scorecards, below, changes = _scorecards(department_ids, code, evaluations, period, previous, catalogue)
    findings["scorecards"] = scorecards
    findings["below_target"] = below
    findings["biggest_changes"] = changes
    findings["flow"] = _flow(flow, code)
    findings["breaches"] = _breaches(window, department_ids, code)
    findings.update(_actions(review, department_ids, code, evaluations, today))
    findings["inspections"] = _inspections(period, department_ids, code)
    findings["notes"] = list(notes or [])
    return findings


def _scorecards(department_ids, code, evaluations, period, previous, catalogue):
    scorecards, below, changes = [], [], []
    for pk in sorted(department_ids, key=lambda pk: code[pk]):
        current = evaluations.get((pk, period.start))
        before = evaluations.get((pk, previous.start))
        before_scores = {s.kpi_code: s for s in before.scores.all()} if before else {}
        rows = []
        scores = sorted(
            current.scores.all() if current else [],
            key=lambda s: (catalogue[s.kpi_code].order if s.kpi_code in catalogue else 999, s.kpi_code),
        )
        department_changes = []
        for s in scores:
            prior = before_scores.get(s.kpi_code)
            prior_value = prior.value if prior else None
            change = s.value - prior_value if s.value is not None and prior_value is not None else None
            row = {
                "kpi": s.kpi_code,
                "unit": s.unit,
                "direction": s.direction,
                "value": _s(s.value),
                "target": _s(s.target),
                "met": s.met,
                "sample_size": s.sample_size,
                "previous": _s(prior_value),
                "change": _s(change),
                "trend": trend(s.value, prior_value, s.direction),
            }
            rows.append(row)
            if s.met is False:
                gap = s.value - s.target
                below.append(
                    {
                        "department": code[pk],
                        "kpi": s.kpi_code,
                        "unit": s.unit,
                        "direction": s.direction,
                        "value": _s(s.value),
                        "target": _s(s.target),
                        "gap": _s(gap),
                        "gap_percent": _pct(gap, s.target),
                        "points": _s(s.points),
                    }
                )
            if change:
                relative = abs(change) / abs(prior_value) if prior_value else Decimal("Infinity")
                department_changes.append(
                    (
                        relative,
                        {
                            "department": code[pk],
                            "kpi": s.kpi_code,
                            "unit": s.unit,
                            "direction": s.direction,
                            "previous": _s(prior_value),
                            "value": _s(s.value),
                            "change": _s(change),
                            "change_percent": _pct(change, prior_value) if prior_value else None,
                            "trend": row["trend"],
                        },
                    )
                )
        department_changes.sort(key=lambda item: (-item[0], item[1]["kpi"]))
        changes += [row for _relative, row in department_changes[:CHANGES_PER_DEPARTMENT]]
        scorecards.append(
            {
                "department": code[pk],
                "evaluation": current.pk if current else None,
                "overall_score": _s(current.overall_score) if current else None,
                "grade": current.grade if current else "",
                "previous_overall_score": _s(before.overall_score) if before else None,
                "previous_grade": before.grade if before else "",
                "trend": trend(
                    current.overall_score if current else None,
                    before.overall_score if before else None,
                    Direction.HIGHER,
                ),
                "missed": sum(1 for r in rows if r["met"] is False),
                "kpis": rows,
            }
        )
    below.sort(key=lambda r: (Decimal(r["points"] or 0), r["department"], r["kpi"]))
    changes.sort(
        key=lambda r: (
            -(abs(Decimal(r["change_percent"])) if r["change_percent"] else Decimal("Infinity")),
            r["department"],
            r["kpi"],
        )
    )
    return scorecards, below, changes


def _flow(cells: dict, code: dict[int, str]) -> dict[str, list[dict[str, Any]]]:
    def row(pair, cell: kpis.FlowCell) -> dict[str, Any]:
        return {
            "from": code[pair[0]] if pair[0] is not None else None,
            "to": code[pair[1]],
            "count": cell.count,
            "returned": cell.returned,
            "bounce_rate": _s(cell.bounce_rate),
            "accepted": cell.accepted,
            "median_minutes_to_accept": _s(cell.median_minutes_to_accept),
        }

    def name(pair) -> tuple[str, str]:
        return (code[pair[0]] if pair[0] is not None else "", code[pair[1]])

    bouncing = sorted(
        ((pair, cell) for pair, cell in cells.items() if cell.returned),
        key=lambda item: (-item[1].bounce_rate, -item[1].count, name(item[0])),
    )
    slow = sorted(
        ((pair, cell) for pair, cell in cells.items() if cell.median_minutes_to_accept is not None),
        key=lambda item: (-item[1].median_minutes_to_accept, -item[1].count, name(item[0])),
    )
    return {
        "by_bounce_rate": [row(p, c) for p, c in bouncing[:FLOW_HOT_SPOTS]],
        "by_time_to_accept": [row(p, c) for p, c in slow[:FLOW_HOT_SPOTS]],
        "min_handoffs": FLOW_MIN_HANDOFFS,
    }


def _breaches(window: kpis.Window, department_ids: list[int], code: dict[int, str]) -> list[dict[str, Any]]:
    """Breaches that happened in the period (whenever the handoff was requested) and escalations."""

    def within(field: str) -> Q:
        return Q(**{f"{field}__gte": window.start, f"{field}__lt": window.end})

    rows = (
        Handoff.objects.filter(within("response_breached_at") | within("resolution_breached_at"))
        .filter(to_department_id__in=department_ids)
        .values("to_department_id")
        .annotate(
            response=Count("pk", filter=within("response_breached_at")),
            resolution=Count("pk", filter=within("resolution_breached_at")),
        )
        .order_by()
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"response": 0, "resolution": 0, "escalated": 0})
    for r in rows:
        counts[r["to_department_id"]].update(response=r["response"], resolution=r["resolution"])
    escalations = (
        CaseEvent.objects.filter(
            within("created_at"), kind=CaseEvent.Kind.ESCALATED, handoff__to_department_id__in=department_ids
        )
        .values("handoff__to_department_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for r in escalations:
        counts[r["handoff__to_department_id"]]["escalated"] = r["n"]
    return sorted(
        (
            {
                "department": code[pk],
                "response_breached": c["response"],
                "resolution_breached": c["resolution"],
                "escalated": c["escalated"],
            }
            for pk, c in counts.items()
        ),
        key=lambda r: (-(r["response_breached"] + r["resolution_breached"]), r["department"]),
    )


def _action_row(action: ImprovementAction, code: dict[int, str], today: date) -> dict[str, Any]:
    overdue = action.is_overdue(today)
    return {
        "id": action.pk,
        "title": action.title,
        "department": code.get(action.department_id, ""),
        "owner": action.owner.get_username(),
        "owner_name": action.owner.get_full_name() or action.owner.get_username(),
        "kind": action.kind,
        "kpi": action.kpi_code,
        "baseline": _s(action.baseline),
        "goal": _s(action.goal),
        "due_date": action.due_date.isoformat(),
        "status": action.status,
        "overdue": overdue,
        "days_overdue": (today - action.due_date).days if overdue else 0,
        "review": action.review_id,
    }


def _actions(review, department_ids, code, evaluations, today) -> dict[str, list[dict[str, Any]]]:
    """What the review checked (the actions of earlier reviews it judged), what still awaits a check,
    and the actions still to be done (overdue ones separately)."""
    rows = list(
        ImprovementAction.objects.filter(department_id__in=department_ids)
        .filter(
            Q(result_review=review)
            | Q(status__in=ImprovementAction.PENDING)
            | Q(status=ImprovementAction.Status.DONE, review__period_start__lt=review.period_start)
        )
        .select_related("owner")
        .order_by("due_date", "pk")
    )
    latest = {
        (pk, s.kpi_code): s.value
        for (pk, start), e in evaluations.items()
        if start == review.period_start
        for s in e.scores.all()
    }
    checked, awaiting, pending = [], [], []
    for action in rows:
        row = _action_row(action, code, today)
        if action.result_review_id == review.pk:
            row.update(
                value=_s(action.result_value),
                verdict="effective"
                if action.status == ImprovementAction.Status.VERIFIED
                else "not_effective",
            )
            checked.append(row)
        elif action.status == ImprovementAction.Status.DONE:
            row["reason"] = "no_data" if action.kpi_code else "judged_by_hand"
            awaiting.append(row)
        else:
            row["latest"] = (
                _s(latest.get((action.department_id, action.kpi_code))) if action.kpi_code else None
            )
            pending.append(row)
    return {
        "checked_actions": checked,
        "awaiting_check": awaiting,
        "open_actions": pending,
        "overdue_actions": [r for r in pending if r["overdue"]],
    }


def _inspections(period: Period, department_ids: list[int], code: dict[int, str]) -> dict[str, Any]:
    rows = list(
        Inspection.objects.filter(
            period_kind=period.kind, period_start=period.start, department_id__in=department_ids
        )
        .select_related("case", "inspector")
        .order_by("department__code", "case__reference", "level")
    )
    return {
        "sampled": len(rows),
        "cases": [
            {
                "case": i.case.reference,
                "department": code[i.department_id],
                # Never the customer's data in the clear: the findings go into e-mails.
                "customer": mask_name(i.case.customer_name),
                "level": i.level,
                "status": i.status,
                "inspector": i.inspector.get_username() if i.inspector else None,
            }
            for i in rows[:INSPECTION_CASES]
        ],
    }


def findings_in_scope(findings: dict[str, Any], codes: set[str] | None) -> dict[str, Any]:
    """The part of the findings about the given departments (None: all of it). A flow pair is kept
    when either end is one of them."""
    if codes is None or not findings:
        return findings

    def mine(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if r.get("department") in codes]

    def pair(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if r.get("from") in codes or r.get("to") in codes]

    scoped = dict(findings)
    scoped["departments"] = [c for c in findings.get("departments", []) if c in codes]
    for key in (
        "scorecards",
        "below_target",
        "biggest_changes",
        "breaches",
        "checked_actions",
        "awaiting_check",
        "open_actions",
        "overdue_actions",
    ):
        scoped[key] = mine(findings.get(key, []))
    flow = findings.get("flow") or {}
    scoped["flow"] = {
        **flow,
        "by_bounce_rate": pair(flow.get("by_bounce_rate", [])),
        "by_time_to_accept": pair(flow.get("by_time_to_accept", [])),
    }
    inspections = findings.get("inspections") or {}
    cases = mine(inspections.get("cases", []))
    scoped["inspections"] = {"sampled": len(cases), "cases": cases}
    return scoped
