"""Notifications through the transactional outbox.

A state change writes facts only: one `OutboxEntry` per thing to tell (kind, ids, a small JSON of
facts, a unique de-duplication key), in its own transaction, with nothing rendered and nobody looked
up. Delivery (`processes.outbox`) then asks the kind's handler, registered here by the app that owns
the kind, who receives the entry and in which words: recipients of a whole batch in a few queries,
each message rendered in its recipient's language with customer data masked.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from departments.models import Membership
from processes import writes
from processes.models import (
    Handoff,
    Notification,
    NotificationPreference,
    OutboxEntry,
    Priority,
    handoff_note_text,
)
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
            "action_url": case_admin_url(info.case_id),
            "action_label": _("Open the case"),
            "alert": kind in (Kind.BREACHED, Kind.ESCALATED),
            "note": handoff_note_text(info.note),
            "extra": extra,
            "priority": Priority(info.priority).label,
        }
        subject = f"[{info.reference}] {headline}"
        return (
            subject,
            render_to_string("processes/email/notice.txt", context),
            render_to_string("processes/email/notice.html", context),
        )


_muted: ContextVar[bool] = ContextVar("notifications_muted", default=False)


@contextmanager
def muted():
    """Replaying history (demo data, imports) must not e-mail anybody about the past."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def entry(kind: str, key: str, *, at: datetime, case_id: int | None = None, **facts: Any) -> OutboxEntry:
    """An unsaved outbox entry; `enqueue` writes a list of them in one statement."""
    return OutboxEntry(kind=kind, dedup_key=key[:200], case_id=case_id, facts=facts, created_at=at)


def enqueue(entries: list[OutboxEntry], *, webhooks: bool = True) -> None:
    """Write the entries in the caller's transaction; a duplicate key is silently the same message.
    `webhooks`: whether the commit also wrote events that a webhook subscription waits for.

    Each entry carries its writer's `at`, never the wall clock: a service replaying the past (or a
    test at a fixed date) must find its own rows due at its own `now`."""
    if not entries or _muted.get():
        return
    writes.insert(entries, ignore_conflicts=True)
    transaction.on_commit(kick_delivery if webhooks else _kick_notifications, robust=True)


def muted_now() -> bool:
    return _muted.get()


def _kick_notifications() -> None:
    kick_delivery(webhooks=False)


def kick_delivery(webhooks: bool = True) -> None:
    """Ask a worker to deliver now (and webhooks too). With the broker down this fails fast and beat
    delivers later."""
    from processes import nudges
    from processes.tasks import deliver_notifications, deliver_webhooks

    if deliver_notifications.app.conf.task_always_eager:
        deliver_notifications.apply_async(retry=False)
        return
    # The same commit wrote timeline events when `webhooks`: webhooks follow them.
    nudges.publish([deliver_notifications, deliver_webhooks] if webhooks else [deliver_notifications])


# -- the registry of kinds ---------------------------------------------------------------------------
Addressed = dict[int, list[tuple[Recipient, dict]]]  # entry id → (recipient, per-recipient context)


@dataclass(frozen=True)
class KindHandler:
    """How an app's kind of entry is addressed and worded at delivery.

    `address(entries)` returns the recipients of each entry (a few queries for the whole batch);
    `prepare(entries)` loads what the words need for a batch and returns it; `render(entry, recipient,
    context, prepared)` returns (subject, text, html) in the recipient's language."""

    address: Callable[[list[OutboxEntry]], Addressed]
    prepare: Callable[[list[OutboxEntry]], Any]
    render: Callable[[OutboxEntry, Recipient, dict, Any], tuple[str, str, str]]
    # Kinds that are not staff e-mail (messages to the customer) make their own rows at addressing.
    materialise: Callable[[list[OutboxEntry], datetime], None] | None = None


_handlers: dict[str, KindHandler] = {}


def register(kind: str, handler: KindHandler) -> None:
    _handlers[kind] = handler


def handler(kind: str) -> KindHandler:
    return _handlers[kind]


# -- handoff notices: the kinds of this app ---------------------------------------------------------
def handoff_entry(kind: str, key: str, *, handoff_id: int, case_id: int, at: datetime, **facts: Any):
    return entry(kind, key, at=at, case_id=case_id, handoff=handoff_id, **facts)


def _infos(entries: list[OutboxEntry]) -> dict[int, HandoffInfo]:
    return handoff_infos({e.facts["handoff"] for e in entries})


def _address_handoff_notices(entries: list[OutboxEntry]) -> Addressed:
    """Who hears of a handoff, by kind; recipients of the whole batch in a handful of queries.

    Arrivals and approvals: every member and lead of the receiving department. A return: whoever sent
    the handoff. A reopening, a first escalation: the receiving department's leads. A breach or a
    warning: the assignee, or else (nobody claimed it, or the assignee has left) the whole department;
    an assignee who opted out gets nothing, and neither do their colleagues. A second escalation: the
    leads of the parent department and the quality office."""
    infos = _infos(entries)
    by_kind: dict[str, list[OutboxEntry]] = defaultdict(list)
    for e in entries:
        if e.facts["handoff"] in infos:
            by_kind[e.kind].append(e)
    result: Addressed = {e.pk: [] for e in entries}

    def info(e: OutboxEntry) -> HandoffInfo:
        return infos[e.facts["handoff"]]

    everyone = [Membership.Role.MEMBER, Membership.Role.LEAD]
    for kind in (Kind.HANDOFF_ARRIVED, Kind.COMPENSATION_APPROVAL):
        group = by_kind.get(kind, [])
        people = department_recipients({info(e).to_department_id for e in group}, everyone, kind)
        for e in group:
            result[e.pk] = [(r, {}) for r in people.get(info(e).to_department_id, [])]
    group = by_kind.get(Kind.RETURNED, [])
    senders = user_recipients({info(e).requested_by_id for e in group}, Kind.RETURNED)
    for e in group:
        sender = senders.get(info(e).requested_by_id)
        result[e.pk] = [(sender, {})] if sender else []
    group = by_kind.get(Kind.REOPENED, [])
    leads = department_recipients(
        {info(e).to_department_id for e in group}, [Membership.Role.LEAD], Kind.REOPENED
    )
    for e in group:
        result[e.pk] = [(r, {}) for r in leads.get(info(e).to_department_id, [])]
    for kind in (Kind.BREACHED, Kind.DUE_SOON):
        group = by_kind.get(kind, [])
        if not group:
            continue
        by_dept = department_recipients({info(e).to_department_id for e in group}, everyone, kind)
        assignee_ids = {info(e).assignee_id for e in group if info(e).assignee_id}
        wanting = user_recipients(assignee_ids, kind)
        active = active_user_ids(assignee_ids)
        for e in group:
            i = info(e)
            if i.assignee_id in active:
                people_ = [wanting[i.assignee_id]] if i.assignee_id in wanting else []
            else:
                people_ = by_dept.get(i.to_department_id, [])
            result[e.pk] = [(r, {}) for r in people_]
    group = by_kind.get(Kind.ESCALATED, [])
    first = [e for e in group if e.facts.get("level") == 1]
    second = [e for e in group if e.facts.get("level") != 1]
    leads = department_recipients(
        {info(e).to_department_id for e in first}, [Membership.Role.LEAD], Kind.ESCALATED
    )
    for e in first:
        result[e.pk] = [(r, {}) for r in leads.get(info(e).to_department_id, [])]
    if second:
        parents = {info(e).parent_department_id for e in second if info(e).parent_department_id}
        parent_leads = department_recipients(parents, [Membership.Role.LEAD], Kind.ESCALATED)
        office = quality_office_recipients(Kind.ESCALATED)
        for e in second:
            people_ = parent_leads.get(info(e).parent_department_id, []) + list(office)
            result[e.pk] = [(r, {}) for r in people_]
    return result


def _render_handoff_notice(
    e: OutboxEntry, recipient: Recipient, context: dict, infos: dict
) -> tuple[str, str, str]:
    extra = {k: v for k, v in e.facts.items() if k != "handoff"}
    return render_handoff_notice(e.kind, recipient, infos[e.facts["handoff"]], extra)


_HANDOFF_NOTICES = KindHandler(
    address=_address_handoff_notices, prepare=_infos, render=_render_handoff_notice
)
for _kind in (
    Kind.HANDOFF_ARRIVED,
    Kind.COMPENSATION_APPROVAL,
    Kind.RETURNED,
    Kind.REOPENED,
    Kind.BREACHED,
    Kind.DUE_SOON,
    Kind.ESCALATED,
):
    register(_kind, _HANDOFF_NOTICES)
