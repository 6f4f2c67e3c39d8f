"""Demo evaluations for `seed_demo`: customer feedback on about 60 % of the closed demo cases,
three-level inspections of a monthly sample, and evaluations of the last 6 months, 8 weeks and
2 quarters. Idempotent (a rerun adds only what is missing and recomputes the periods) and fast: the
feedback is bulk-inserted, the rest goes through the services.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core.errors import ApplicationError
from evaluations import services
from evaluations.models import CustomerFeedback, Inspection, Level, Scorecard, ScorecardCriterion
from evaluations.periods import PeriodKind, period_containing, recent_periods
from processes import case_records
from processes.models import Case, Handoff

SOURCE = "demo"
FEEDBACK_SHARE = 60  # percent of closed demo cases
CHUNK = 1000
SAMPLE = {Level.SELF: 3, Level.DEPARTMENT: 2, Level.QUALITY_OFFICE: 2}
PERIODS = [(PeriodKind.MONTHLY, 6), (PeriodKind.WEEKLY, 8), (PeriodKind.QUARTERLY, 2)]
SCORECARD = (
    "SERVICE_QA",
    "服务质量通用质检表",
    "Service quality scorecard",
    [
        ("accuracy", "处理结论准确", "Accurate resolution", 3, 10),
        ("timeliness", "响应与办结及时", "Timely response and resolution", 2, 10),
        ("communication", "沟通规范、态度友好", "Clear, courteous communication", 2, 5),
        ("recovery", "服务补救措施得当", "Appropriate service recovery", 2, 5),
        ("records", "记录完整、可追溯", "Complete, traceable records", 1, 5),
    ],
)


def _chosen(reference: str) -> bool:
    """About FEEDBACK_SHARE % of cases, the same ones on every run."""
    return int(hashlib.sha256(reference.encode()).hexdigest()[:8], 16) % 100 < FEEDBACK_SHARE


def ensure_scorecard() -> Scorecard:
    code, name, name_en, criteria = SCORECARD
    scorecard, created = Scorecard.objects.get_or_create(
        code=code, defaults={"name": name, "name_en": name_en}
    )
    if created:
        ScorecardCriterion.objects.bulk_create(
            ScorecardCriterion(scorecard=scorecard, code=c, name=n, name_en=e, weight=w, max_score=m, order=i)
            for i, (c, n, e, w, m) in enumerate(criteria)
        )
    return scorecard


def seed_feedback(*, now: datetime) -> int:
    breached = Handoff.objects.filter(case=OuterRef("pk")).filter(
        Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False)
    )
    answered = CustomerFeedback.objects.filter(case=OuterRef("pk"), source=SOURCE)
    cases = list(
        Case.objects.filter(source=SOURCE, status=Case.Status.CLOSED, closed_at__isnull=False)
        .filter(~Exists(answered))
        .annotate(breached=Exists(breached))
        .order_by("pk")
        .values_list(
            "pk", "reference", "closed_at", "current_department_id", "channel", "reopen_count", "breached"
        )
    )
    added = 0
    for start in range(0, len(cases), CHUNK):
        rows, departments = [], []
        for pk, reference, closed_at, department_id, channel, reopened, was_breached in cases[
            start : start + CHUNK
        ]:
            if not _chosen(reference):
                continue
            rng = random.Random(f"demo-feedback:{reference}")
            unhappy = was_breached or reopened
            csat = rng.choice([2, 3, 3, 4, 4, 5] if unhappy else [3, 4, 4, 5, 5, 5, 5])
            nps = rng.choice([0, 3, 5, 6, 7, 8, 9] if unhappy else [6, 7, 8, 9, 9, 10, 10])
            responded_at = min(closed_at + timedelta(hours=rng.uniform(1, 48)), now - timedelta(minutes=1))
            rows.append(
                CustomerFeedback(
                    case_id=pk,
                    survey_id=f"demo-{reference}",
                    csat=csat if rng.random() < 0.9 else None,
                    nps=nps,
                    comment=""
                    if rng.random() < 0.7
                    else ("处理及时, 态度很好" if csat >= 4 else "等待时间太长"),
                    channel="sms" if channel in ("phone", "letter") else "mobile_app",
                    source=SOURCE,
                    responded_at=responded_at,
                    created_at=responded_at,
                )
            )
            departments.append(department_id)
        with transaction.atomic():
            created = CustomerFeedback.objects.bulk_create(rows)
            case_records.feedback_records_seed(
                (
                    f.case_id,
                    department_id,
                    f.responded_at,
                    {
                        "feedback": f.pk,
                        "survey_id": f.survey_id,
                        "csat": f.csat,
                        "nps": f.nps,
                        "channel": f.channel,
                        "source": SOURCE,
                    },
                )
                for f, department_id in zip(created, departments, strict=True)
            )
        added += len(rows)
    return added


def seed_inspections(*, scorecard: Scorecard, now: datetime) -> tuple[int, int]:
    """Sample each of the last 6 months at the three levels; complete every inspection of past months
    and the self-checks of the current one (the rest is the inspectors' open work)."""
    User = get_user_model()
    officer = User.objects.filter(username="quality_officer").first()
    if officer is None:
        return 0, 0
    current = period_containing(PeriodKind.MONTHLY, timezone.localtime(now).date())
    sampled = completed = 0
    users = {u.pk: u for u in User.objects.filter(is_active=True)}
    criteria = list(scorecard.criteria.all())
    for period in recent_periods(PeriodKind.MONTHLY, 6, until=current.start):
        for level, n in SAMPLE.items():
            inspections = services.inspection_sample(
                kind=period.kind,
                start=period.start,
                per_department=n,
                level=level,
                scorecard=scorecard,
                actor=officer,
                at=now,
            )
            sampled += len(inspections)
            if period == current and level != Level.SELF:
                continue
            for inspection in inspections:
                if inspection.status != Inspection.Status.ASSIGNED:
                    continue
                rng = random.Random(
                    f"demo-inspection:{inspection.case_id}:{inspection.department_id}:{level}"
                )
                inspector = users.get(inspection.inspector_id) or officer
                scores = {c.code: rng.choice(_grades(c.max_score)) for c in criteria}
                try:
                    services.inspection_record(
                        inspection=inspection,
                        actor=inspector,
                        scores=scores,
                        at=min(now, inspection.case_resolved_at + timedelta(days=rng.uniform(2, 12))),
                    )
                except ApplicationError:
                    continue  # an inspector who lost the right meanwhile: the inspection stays open
                completed += 1
    return sampled, completed


def _grades(maximum: int) -> list[int]:
    return [maximum, maximum, maximum - 1, max(0, maximum - 2), max(0, maximum - 3), max(0, maximum // 2)]


def seed_evaluations(*, now: datetime | None = None, progress=None, stdout=None) -> dict[str, int]:
    now = now or timezone.now()

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message)

    services.kpi_ensure_defaults()
    scorecard = ensure_scorecard()
    feedback = seed_feedback(now=now)
    say(f"  feedback: {feedback} added")
    sampled, completed = seed_inspections(scorecard=scorecard, now=now)
    say(f"  inspections: {sampled} in the samples, {completed} completed now")
    today = timezone.localtime(now).date()
    periods = [p for kind, count in PERIODS for p in recent_periods(kind, count, until=today)]
    bar = progress(total=len(periods), unit="period") if progress else None
    evaluations = 0
    for period in periods:
        evaluations += len(services.evaluation_compute_period(kind=period.kind, start=period.start, now=now))
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    say(f"  evaluations: {evaluations} computed for {len(periods)} periods")
    return {"feedback": feedback, "inspections": sampled, "evaluations": evaluations}
