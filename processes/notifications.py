"""Notifications through the transactional outbox.

Rows are written in the caller's transaction with a unique de-duplication key (INSERT … ON CONFLICT DO
NOTHING), rendered in the recipient's language with customer data masked, and delivered by
`processes.tasks.deliver_notifications`, kicked after commit and by beat every minute.
Recipients are resolved for a whole batch in one query, so the SLA sweep stays set-based.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from departments.models import Membership
from processes.models import Handoff, Notification, NotificationPreference, Priority
from processes.policy import mask_name, mask_phone

log = logging.getLogger(__name__)
Kind = Notification.Kind


@dataclass(frozen=True)
class Recipient:
    user_id: int | None
    email: str
    language: str


@dataclass(frozen=True)
class HandoffInfo:
    id: int
    case_id: int
    reference: str
    title: str
    process: str
    stage: str
    priority: str
    customer_name: str
    customer_phone: str
    from_department: str
    to_department_id: int
    to_department: str
    parent_department_id: int | None
    requested_by_id: int | None
    assignee_id: int | None
    response_due_at: datetime
    resolution_due_at: datetime
    note: str


HANDOFF_FIELDS = {
    "id": "id",
    "case_id": "case_id",
    "reference": "case__reference",
    "title": "case__title",
    "process": "case__process__name",
    "stage": "to_stage__name",
    "priority": "priority",
    "customer_name": "case__customer_name",
    "customer_phone": "case__customer_phone",
    "from_department": "from_department__name",
    "to_department_id": "to_department_id",
    "to_department": "to_department__name",
    "parent_department_id": "to_department__parent_id",
    "requested_by_id": "requested_by_id",
    "assignee_id": "assignee_id",
    "response_due_at": "response_due_at",
    "resolution_due_at": "resolution_due_at",
    "note": "note",
}


def handoff_infos(ids: Iterable[int]) -> dict[int, HandoffInfo]:
    """Everything the e-mails of a batch of handoffs need, in one query."""
    rows = Handoff.objects.filter(pk__in=list(ids)).values_list(*HANDOFF_FIELDS.values())
    return {
        row[0]: HandoffInfo(
            *[
                v if v is not None or k.endswith("_id") else ""
                for k, v in zip(HANDOFF_FIELDS, row, strict=True)
            ]
        )
        for row in rows
    }


def _opted_out(kind: str, user_ref: str = "pk"):
    return Exists(NotificationPreference.objects.filter(user_id=OuterRef(user_ref), kind=kind, email=False))


def department_recipients(
    department_ids: Iterable[int], roles: Iterable[str], kind: str
) -> dict[int, list[Recipient]]:
    """Members in the given roles of each department who want this kind of e-mail, one query."""
    rows = (
        Membership.objects.filter(
            department_id__in=list(department_ids), role__in=list(roles), user__is_active=True
        )
        .exclude(user__email="")
        .exclude(_opted_out(kind, "user_id"))
        .values_list("department_id", "user_id", "user__email", "user__baton_settings__language")
        .order_by("department_id", "user_id")
        .distinct()
    )
    result: dict[int, list[Recipient]] = defaultdict(list)
    for dept_id, user_id, email, language in rows:
        recipient = Recipient(user_id, email, language or settings.LANGUAGE_CODE)
        if recipient not in result[dept_id]:
            result[dept_id].append(recipient)
    return result


def user_recipients(user_ids: Iterable[int], kind: str) -> dict[int, Recipient]:
    rows = (
        get_user_model()
        .objects.filter(pk__in=[u for u in user_ids if u], is_active=True)
        .exclude(email="")
        .exclude(_opted_out(kind))
        .values_list("pk", "email", "baton_settings__language")
    )
    return {pk: Recipient(pk, email, language or settings.LANGUAGE_CODE) for pk, email, language in rows}


def active_user_ids(user_ids: Iterable[int]) -> set[int]:
    ids = [u for u in user_ids if u]
    if not ids:
        return set()
    return set(get_user_model().objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))


def quality_office_recipients(kind: str) -> list[Recipient]:
    """Whoever holds the permission to act for all departments: the quality office, by permission."""
    perm = Q(codename="act_for_all_departments", content_type__app_label="departments")
    from django.contrib.auth.models import Permission

    perm_ids = Permission.objects.filter(perm).values("pk")
    rows = (
        get_user_model()
        .objects.filter(
            Q(groups__permissions__in=perm_ids) | Q(user_permissions__in=perm_ids), is_active=True
        )
        .exclude(email="")
        .exclude(_opted_out(kind))
        .values_list("pk", "email", "baton_settings__language")
        .distinct()
    )
    return [Recipient(pk, email, language or settings.LANGUAGE_CODE) for pk, email, language in rows]


def case_admin_url(case_id: int) -> str:
    return f"{settings.SITE_URL}/admin/processes/case/{case_id}/change/"


def _headline(kind: str, info: HandoffInfo, extra: dict) -> str:
    headlines = {
        Kind.HANDOFF_ARRIVED: _("New handoff for %(department)s"),
        Kind.DUE_SOON: _("Due soon: %(clock)s target at 80%%"),
        Kind.BREACHED: _("Breached: the %(clock)s target has passed"),
        Kind.ESCALATED: _("Escalated to level %(level)s"),
        Kind.RETURNED: _("Returned to you by %(department)s"),
        Kind.REOPENED: _("Case reopened"),
        Kind.COMPENSATION_APPROVAL: _("Compensation awaiting approval"),
    }
    clocks = {"response": _("response"), "resolution": _("resolution")}
    return headlines[kind] % {
        "department": info.to_department,
        "clock": clocks.get(extra.get("clock", ""), ""),
        "level": extra.get("level", ""),
    }


def render_handoff_notice(
    kind: str, recipient: Recipient, info: HandoffInfo, extra: dict
) -> tuple[str, str, str]:
    """(subject, text, html) in the recipient's language, customer data masked."""
    with translation.override(recipient.language):
        headline = _headline(kind, info, extra)
        context = {
            # render_to_string has no request, so no i18n context processor: the <html lang> of the
            # e-mail would otherwise always be the default language.
            "LANGUAGE_CODE": recipient.language,
            "headline": headline,
            "info": info,
            "customer_name": mask_name(info.customer_name),
            "customer_phone": mask_phone(info.customer_phone),
            "response_due": timezone.localtime(info.response_due_at),
            "resolution_due": timezone.localtime(info.resolution_due_at),
            "url": case_admin_url(info.case_id),
            "extra": extra,
            "priority": Priority(info.priority).label,
        }
        subject = f"[{info.reference}] {headline}"
        return (
            subject,
            render_to_string("processes/email/notice.txt", context),
            render_to_string("processes/email/notice.html", context),
        )


def build(
    kind: str, recipients: Iterable[Recipient], info: HandoffInfo, *, key: str, extra: dict | None = None
) -> list[Notification]:
    extra = extra or {}
    notes = []
    rendered: dict[str, tuple[str, str, str]] = {}  # the text depends only on the language
    for recipient in recipients:
        if recipient.language not in rendered:
            rendered[recipient.language] = render_handoff_notice(kind, recipient, info, extra)
        subject, text, html = rendered[recipient.language]
        notes.append(
            Notification(
                kind=kind,
                user_id=recipient.user_id,
                recipient=recipient.email,
                language=recipient.language,
                subject=subject[:300],
                body_text=text,
                body_html=html,
                dedup_key=f"{key}:{recipient.user_id or recipient.email}"[:200],
                case_id=info.case_id,
            )
        )
    return notes


_muted: ContextVar[bool] = ContextVar("notifications_muted", default=False)


@contextmanager
def muted():
    """Replaying history (demo data, imports) must not e-mail anybody about the past."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def enqueue(notifications: list[Notification], *, at: datetime | None = None) -> None:
    """Write the rows in the caller's transaction; a duplicate key is silently the same e-mail.

    The rows are stamped with the caller's time, never the wall clock: a service replaying the past
    (or a test at a fixed date) must find its own rows due at its own `now`."""
    if not notifications or _muted.get():
        return
    if at is not None:
        for row in notifications:
            row.created_at = row.next_attempt_at = at
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    transaction.on_commit(kick_delivery, robust=True)


def kick_delivery() -> None:
    """Ask a worker to deliver now. With the broker down this fails fast and beat delivers later."""
    from processes.tasks import deliver_notifications

    app = deliver_notifications.app
    try:
        if app.conf.task_always_eager:
            deliver_notifications.apply_async(retry=False)
            return
        with app.producer_or_acquire() as producer:
            # One connection attempt, bounded by the connect timeout. Left to itself, kombu's connect
            # loop sleeps 2 s, then 4 s, before it looks at that timeout again: about 6 s per kick with
            # a refusing broker, in the request that committed.
            producer.connection.ensure_connection(max_retries=0, timeout=app.conf.broker_connection_timeout)
            deliver_notifications.apply_async(retry=False, producer=producer)
    except Exception as exc:  # the outbox row is safe; only the shortcut failed
        log.warning("could not reach the broker to deliver notifications now: %s", exc)


# -- what the services call ------------------------------------------------------------------------
def notify_handoff_requested(handoff: Handoff) -> None:
    """Members of the receiving department; a returned or approval handoff also has its own kind."""
    if _muted.get():
        return
    info = handoff_infos([handoff.pk])[handoff.pk]
    kind = Kind.COMPENSATION_APPROVAL if handoff.kind == Handoff.Kind.APPROVAL else Kind.HANDOFF_ARRIVED
    members = department_recipients(
        [handoff.to_department_id], [Membership.Role.MEMBER, Membership.Role.LEAD], kind
    ).get(handoff.to_department_id, [])
    enqueue(build(kind, members, info, key=f"{kind}:{handoff.pk}"), at=handoff.requested_at)


def notify_returned(returned: Handoff) -> None:
    """The person who sent the handoff learns that it came back, and why."""
    if _muted.get():
        return
    info = handoff_infos([returned.pk])[returned.pk]
    recipients = user_recipients([returned.requested_by_id], Kind.RETURNED).values()
    enqueue(
        build(
            Kind.RETURNED,
            recipients,
            info,
            key=f"returned:{returned.pk}",
            extra={"reason": returned.return_reason},
        ),
        at=returned.returned_at,
    )


def notify_reopened(handoff: Handoff, reopen_count: int, reason: str) -> None:
    if _muted.get():
        return
    info = handoff_infos([handoff.pk])[handoff.pk]
    leads = department_recipients([handoff.to_department_id], [Membership.Role.LEAD], Kind.REOPENED).get(
        handoff.to_department_id, []
    )
    enqueue(
        build(
            Kind.REOPENED,
            leads,
            info,
            key=f"reopened:{handoff.case_id}:{reopen_count}",
            extra={"reason": reason},
        ),
        at=handoff.requested_at,
    )
