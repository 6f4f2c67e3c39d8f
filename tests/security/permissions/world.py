"""The state the permissions matrix asks about, seeded once through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from departments.models import AuditEntry, BusinessCalendar, Heartbeat, Membership, UserSettings
from departments.roles import STAFF
from processes.models import Case, CaseEvent, Handoff, Notification, NotificationPreference, Stage
from processes.outbox import deliver_due
from tests.security.permissions.tables import ADMIN_ROLES, USERNAMES, VISIBLE_CASES

# ====================================================================================================
# The state
# ====================================================================================================
MATRIX_PDF = b"%PDF-1.4\n%%EOF\n"
PAGES = ("changelist", "add", "change", "history", "delete")
CUSTOMERS = {
    # case: (title, name, phone, id)
    "A": ("信用卡年费争议", "张小三", "13812345678", "110101199001011234"),
    "B": ("个贷提前还款违约金争议", "李大海", "13900001111", "310101198502023456"),
    "C": ("信用卡分期手续费争议", "王美丽", "13711112222", "440101197703034567"),
}


@dataclass
class World:
    users: dict[str, Any]
    cases: dict[str, Case]
    handoff: Handoff
    objects: dict[str, Any]  # model label → pk of the object of its change/history/delete pages
    ids: dict[str, Any]  # I (inspection), R (review), X (action), E (evaluation), criteria
    token_key: str
    clients: dict[str, Client] = field(default_factory=dict)

    def forbidden(self, role: str) -> list[str]:
        """What `role` must never read: other departments' cases, and unmasked customer data."""
        out = []
        for name, case in self.cases.items():
            if name not in VISIBLE_CASES[role]:
                out += [case.reference, case.title]
        if role != "officer":
            out += [value for _title, *pii in CUSTOMERS.values() for value in pii]
        return out


def _seed() -> World:
    from core.beat import install_schedules
    from departments.demo import seed_organisation
    from departments.services import heartbeat_record
    from evaluations import services as evaluation_services
    from evaluations.demo import ensure_scorecard
    from evaluations.models import Evaluation, Kpi, Level
    from evaluations.periods import TZ, PeriodKind, period_containing, today
    from evaluations.reviews import services as reviews
    from evaluations.reviews.models import ImprovementAction
    from processes import services
    from processes.api.tokens import api_token_issue
    from processes.demo import seed_processes

    departments = seed_organisation()
    processes = seed_processes()
    evaluation_services.kpi_ensure_defaults()  # a transactional test elsewhere may have flushed them
    scorecard = ensure_scorecard()
    users = {role: get_user_model().objects.get(username=name) for role, name in USERNAMES.items()}
    call_center, card_center, officer = users["token"], users["agent"], users["officer"]

    # The cases happened last month, so that last month's review and evaluations see them.
    last_month = period_containing(PeriodKind.MONTHLY, today()).previous()
    start = datetime.combine(last_month.start + timedelta(days=9), time(10), tzinfo=TZ)

    def open_handoff(case: Case) -> Handoff:
        return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)

    def to_stage(key: str, stage: str, at: datetime) -> Case:
        title, name, phone, customer_id = CUSTOMERS[key]
        case, _ = services.case_open(
            process=processes["COMPLAINT"],
            title=title,
            channel=Case.Channel.PHONE,
            customer_name=name,
            customer_phone=phone,
            customer_id=customer_id,
            actor=call_center,
            at=at,
        )
        services.handoff_accept(handoff=open_handoff(case), actor=call_center, at=at + timedelta(minutes=2))
        services.case_forward(case=case, to_stage=stage, actor=call_center, at=at + timedelta(minutes=5))
        return case

    a = to_stage("A", "INVESTIGATE_CARD", start)
    services.handoff_accept(handoff=open_handoff(a), actor=card_center, at=start + timedelta(hours=1))
    b = to_stage("B", "INVESTIGATE_LENDING", start + timedelta(hours=1))
    c = to_stage("C", "INVESTIGATE_CARD", start + timedelta(hours=2))
    services.handoff_accept(handoff=open_handoff(c), actor=card_center, at=start + timedelta(hours=3))
    services.case_resolve(
        case=c,
        actor=card_center,
        resolution="分期手续费已减免",
        recovery_measure=Case.Recovery.FEE_WAIVER,
        at=start + timedelta(hours=5),
    )
    feedback, _ = evaluation_services.feedback_record(
        case=c,
        actor=officer,
        survey_id="MATRIX-1",
        csat=4,
        responded_at=start + timedelta(days=1),
        at=start + timedelta(days=1),
    )
    inspection = evaluation_services.inspection_assign(
        case=c,
        department=departments["CARD_CENTER"],
        level=Level.DEPARTMENT,
        scorecard=scorecard,
        actor=officer,
    )
    cycle = reviews.review_cycle_create(
        actor=officer,
        name="信用卡与客服月度评审",
        kind=PeriodKind.MONTHLY,
        all_departments=False,
        departments=[departments["CALL_CENTER"], departments["CARD_CENTER"]],
    )
    review, _ = reviews.review_cycle_run(cycle=cycle, period_start=last_month.start, actor=officer)
    action = reviews.action_create(
        review=review,
        department=departments["CARD_CENTER"],
        owner=card_center,
        title="年费争议话术培训",
        kind=ImprovementAction.Kind.TRAINING,
        due_date=today() + timedelta(days=30),
        actor=users["lead"],
    )
    evaluation = Evaluation.objects.get(
        department=departments["CARD_CENTER"], kind=PeriodKind.MONTHLY, period_start=last_month.start
    )
    token = api_token_issue(username=USERNAMES["token"])

    # Rows of models without a service of their own (third-party, self-service, the worker's).
    heartbeat_record()
    install_schedules()
    from processes.models import WebhookDelivery, WebhookSubscription
    from processes.webhooks.signing import new_secret

    hook = WebhookSubscription.objects.create(
        name="CRM", url="https://crm.bank.example/hooks", secret=new_secret(), owner=users["officer"]
    )
    hook_delivery = WebhookDelivery.objects.create(
        subscription=hook, event=CaseEvent.objects.filter(case=a).order_by("pk").first(), case=a
    )
    preference = NotificationPreference.objects.create(
        user=card_center, kind=Notification.Kind.DUE_SOON, email=False
    )
    settings_row = UserSettings.objects.create(user=users["lead"], language="zh-hans")
    audit = AuditEntry.objects.create(kind=AuditEntry.Kind.LOGIN, user=officer, username=officer.username)
    axes = {"user_agent": "pytest", "ip_address": "10.0.0.9", "username": "nobody", "http_accept": "*/*"}
    attempt = AccessAttempt.objects.create(**axes, path_info="/admin/login/", failures_since_start=1)
    access_log = AccessLog.objects.create(**axes, path_info="/admin/login/")
    failure_log = AccessFailureLog.objects.create(**axes, path_info="/admin/login/")
    clocked = ClockedSchedule.objects.create(clocked_time=start)
    solar = SolarSchedule.objects.create(event="sunrise", latitude=31.23, longitude=121.47)

    # The desk: a file on case A, a reply template, card_center_agent's saved queue view.
    from processes.attachments import attachment_add
    from processes.models import ReplyTemplate, SavedQueueView

    attachment = attachment_add(case=a, actor=card_center, file=MATRIX_PDF, name="账单.pdf")
    reply = ReplyTemplate.objects.create(
        process=processes["COMPLAINT"], kind="resolution", title="年费退还", text_zh="年费已退还。"
    )
    saved_view = SavedQueueView.objects.create(user=card_center, name="我的", query="assignee=me")

    # Messages are made from the outbox entries at delivery.
    deliver_due()
    from processes.models import ConsoleSms, CustomerMessage, CustomerMessageTemplate

    customer_message = CustomerMessage.objects.create(
        case=a, kind=CustomerMessage.Kind.INTAKE, channel=CustomerMessage.Channel.SMS, dedup_key="matrix"
    )
    customer_template = CustomerMessageTemplate.objects.create(
        kind="intake", language="en", body="{reference}"
    )
    console_sms = ConsoleSms.objects.create(to_masked="138****5678", body="matrix")

    objects = {
        "auth.group": Group.objects.get(name=STAFF).pk,
        "auth.user": card_center.pk,
        "axes.accessattempt": attempt.pk,
        "axes.accesslog": access_log.pk,
        "axes.accessfailurelog": failure_log.pk,
        "django_celery_beat.periodictask": PeriodicTask.objects.order_by("pk").first().pk,
        "django_celery_beat.clockedschedule": clocked.pk,
        "django_celery_beat.crontabschedule": CrontabSchedule.objects.order_by("pk").first().pk,
        "django_celery_beat.solarschedule": solar.pk,
        "django_celery_beat.intervalschedule": IntervalSchedule.objects.order_by("pk").first().pk,
        "departments.businesscalendar": BusinessCalendar.objects.get(code="CN_HEAD_OFFICE").pk,
        "departments.department": departments["CARD_CENTER"].pk,
        "departments.membership": Membership.objects.get(user=card_center).pk,
        "departments.heartbeat": Heartbeat.objects.get().pk,
        "departments.usersettings": settings_row.pk,
        "departments.auditentry": audit.pk,
        "processes.case": a.pk,
        "processes.serviceprocess": processes["COMPLAINT"].pk,
        "processes.stage": Stage.objects.get(process=processes["COMPLAINT"], code="INVESTIGATE_CARD").pk,
        "processes.notification": Notification.objects.order_by("pk").first().pk,
        "processes.notificationpreference": preference.pk,
        "processes.customermessage": customer_message.pk,
        "processes.customermessagetemplate": customer_template.pk,
        "processes.consolesms": console_sms.pk,
        "processes.webhooksubscription": hook.pk,
        "departments.apikey": token.api_key.pk,
        "processes.webhookdelivery": hook_delivery.pk,
        "processes.handoff": open_handoff(a).pk,
        "processes.caseevent": CaseEvent.objects.filter(case=a).order_by("pk").first().pk,
        "evaluations.kpi": Kpi.objects.order_by("pk").first().pk,
        "evaluations.scorecard": scorecard.pk,
        "evaluations.customerfeedback": feedback.pk,
        "evaluations.inspection": inspection.pk,
        "evaluations.evaluation": evaluation.pk,
        "evaluations.reviewcycle": cycle.pk,
        "evaluations.improvementreview": review.pk,
        "evaluations.improvementaction": action.pk,
        "processes.replytemplate": reply.pk,
        "processes.savedqueueview": saved_view.pk,
        "processes.attachment": attachment.pk,
    }
    criteria = {c.code: int(c.max_score) for c in scorecard.criteria.all()}
    world = World(
        users=users,
        cases={"A": a, "B": b, "C": c},
        handoff=open_handoff(a),
        objects=objects,
        ids={"I": inspection.pk, "R": review.pk, "X": action.pk, "E": evaluation.pk, "criteria": criteria},
        token_key=token.key,
    )
    for role in ADMIN_ROLES:
        client = Client(raise_request_exception=False)
        client.force_login(users[role])
        world.clients[role] = client
    world.clients["anon"] = Client(raise_request_exception=False)
    world.clients["token"] = Client(
        raise_request_exception=False, headers={"Authorization": f"Token {token.key}"}
    )
    return world
