"""Messages to the customer: intake received, deadline extended (new date and reason category),
resolution, and the satisfaction survey.

A state change only writes an `OutboxEntry` (kind `customer_<kind>`, the case id, a few facts) next to
its staff notices, in the same INSERT. Delivery (processes/outbox.py) turns each entry into one
`CustomerMessage` on the channel the case allows (SMS to the phone, else e-mail), then sends it:
the words from the quality office's template (or the built-in ones) rendered then, the address read
from the case then (it is stored encrypted there and nowhere else). The "customer notified" event is
written when a message is actually sent, naming the channel, or when a person records that they told
the customer (`case_record_customer_notified`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import TextChoices
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from processes import notifications
from processes.customers import sms
from processes.models import Case, CaseEvent, CustomerMessage, CustomerMessageTemplate, OutboxEntry
from processes.policy import mask_phone

log = logging.getLogger(__name__)
Kind = CustomerMessage.Kind
PREFIX = "customer_"
# The survey waits a day after the resolution, so that it asks about a settled matter; a case
# reopened meanwhile gets none (checked at delivery).
SURVEY_DELAY = timedelta(hours=24)


class ExtensionReason(TextChoices):
    INVESTIGATION = "investigation", _("the investigation needs more time")
    THIRD_PARTY = "third_party", _("waiting for another institution")
    CUSTOMER_DOCUMENTS = "customer_documents", _("waiting for your documents")
    COMPLEX = "complex", _("the case is particularly complicated")


DEFAULT_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    Kind.INTAKE: {
        "zh-hans": (
            "您的服务请求已受理",
            "您的服务请求已受理，编号{reference}（{process}）。我们会尽快处理。",
        ),
        "en": (
            "We have received your request",
            "We have received your request {reference} ({process}) and are working on it.",
        ),
    },
    Kind.EXTENSION: {
        "zh-hans": (
            "处理时限延长通知",
            "您的投诉{reference}处理时限已延长至{deadline}，原因：{reason}。给您带来不便，敬请谅解。",
        ),
        "en": (
            "Your complaint needs more time",
            "The deadline of your complaint {reference} is extended to {deadline}: {reason}. "
            "We apologise for the wait.",
        ),
    },
    Kind.RESOLUTION: {
        "zh-hans": ("您的服务请求已处理", "您的服务请求{reference}已处理完毕。感谢您的耐心。"),
        "en": (
            "Your request is resolved",
            "Your request {reference} is resolved. Thank you for your patience.",
        ),
    },
    Kind.SURVEY: {
        "zh-hans": (
            "满意度调查",
            "请评价我们对{reference}的服务：{survey_url} 或回复短信评价码{reply_code}加1-5分。",
        ),
        "en": (
            "How did we do?",
            "Please rate our service for {reference}: {survey_url} or reply {reply_code} and a score 1-5.",
        ),
    },
}


# -- writing: inside the state change ---------------------------------------------------------------
def tell(change, kind: str, *, key: str = "", delay: timedelta | None = None, **facts: Any) -> None:
    """Queue a message to the case's customer with the change's other outbox entries (no statement of
    its own). Nothing when the case has no phone or e-mail, or when history is being replayed."""
    case = change.case
    if not settings.BATON_CUSTOMER_MESSAGES or notifications.muted_now():
        return
    if not (case.customer_phone or case.customer_email):
        return
    change.entries.append(
        notifications.entry(
            PREFIX + kind,
            f"customer:{kind}:{case.pk}:{key}",
            at=change.at + delay if delay else change.at,
            case_id=case.pk,
            **facts,
        )
    )


def reply_code(case_id: int) -> str:
    """The survey's reply code: a short keyed hash of the case, the `survey_id` its answer is recorded
    under (evaluations.services.feedback_record), so one survey is answered once."""
    digest = hmac.new(
        settings.BATON_CUSTOMER_INDEX_KEY.encode(), f"survey:{case_id}".encode(), hashlib.sha256
    )
    return digest.hexdigest()[:8].upper()


def survey_url(case: Case) -> str:
    return f"{settings.BATON_SURVEY_URL}?case={case.reference}&code={reply_code(case.pk)}"


@transaction.atomic
def case_record_customer_notified(
    *, case: Case | str, actor, channel: str, about: str = "", note: str = "", at: datetime | None = None
) -> CaseEvent:
    """A person told the customer themselves (a call, a letter): the event names the channel used."""
    from core.errors import field_error
    from processes.services import base

    channels = {*Case.Channel.values, *CustomerMessage.Channel.values}
    if channel not in channels:
        raise field_error("channel", f"Unknown channel {channel!r}.", "invalid_channel")
    if about and about not in Kind.values:
        raise field_error("about", f"Unknown message kind {about!r}.", "invalid_choice")
    at = at or timezone.now()
    locked = base._lock_case(case, actor)
    base._require_works_on(actor, locked, "record that the customer was told")
    change = base._Change(locked, at=at, actor=actor, stamp=locked._stamp)
    change.touch()
    event = change.event(
        CaseEvent.Kind.CUSTOMER_NOTIFIED,
        department_id=locked.current_department_id,
        channel=channel,
        about=about,
        by_person=True,
        note=note.strip(),
    )
    if event.department_id is not None:
        event.department = change.department(event.department_id)
    change.flush()
    return event


# -- delivery: addressing ---------------------------------------------------------------------------
def _channel(case: Case) -> str:
    if case.customer_phone:
        return CustomerMessage.Channel.SMS
    if case.customer_email:
        return CustomerMessage.Channel.EMAIL
    return ""


def materialise(entries: list[OutboxEntry], now: datetime) -> None:
    """One message per entry on the case's channel; a survey only for a case still resolved or closed."""
    cases = Case.objects.in_bulk({e.case_id for e in entries if e.case_id})
    rows = []
    for e in entries:
        case = cases.get(e.case_id)
        kind = e.kind.removeprefix(PREFIX)
        if case is None or not (channel := _channel(case)):
            continue
        if kind == Kind.SURVEY and case.status not in (Case.Status.RESOLVED, Case.Status.CLOSED):
            continue
        rows.append(
            CustomerMessage(
                case=case,
                entry=e,
                kind=kind,
                channel=channel,
                language=e.facts.get("language") or settings.LANGUAGE_CODE,
                recipient_masked=mask_phone(case.customer_phone) if channel == "sms" else _mask_email(case),
                dedup_key=e.dedup_key,
                created_at=e.created_at,
                next_attempt_at=e.created_at,
            )
        )
    CustomerMessage.objects.bulk_create(rows, ignore_conflicts=True)


def _mask_email(case: Case) -> str:
    local, _at, domain = case.customer_email.partition("@")
    return f"{local[:1]}***@{domain}"


# -- delivery: words and sending --------------------------------------------------------------------
class _Templates:
    """The quality office's templates, loaded once per run."""

    def __init__(self) -> None:
        self.rows = {(t.kind, t.language): t for t in CustomerMessageTemplate.objects.all()}

    def words(self, kind: str, language: str) -> tuple[str, str]:
        row = self.rows.get((kind, language))
        if row is not None:
            return row.subject, row.body
        defaults = DEFAULT_WORDS[kind]
        return defaults.get(language) or defaults["zh-hans"]


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(message: CustomerMessage, case: Case, templates: _Templates) -> tuple[str, str]:
    facts = message.entry.facts if message.entry is not None else {}
    with translation.override(message.language):
        reason = facts.get("reason_category", "")
        context = _Blank(
            reference=case.reference,
            process=case.process.name_en
            if message.language == "en" and case.process.name_en
            else case.process.name,
            deadline=facts.get("deadline", ""),
            reason=str(ExtensionReason(reason).label) if reason in ExtensionReason.values else "",
            survey_url=survey_url(case),
            reply_code=reply_code(case.pk),
        )
        subject, body = templates.words(message.kind, message.language)
        return subject.format_map(context), body.format_map(context)


def _due(now: datetime):
    return CustomerMessage.objects.filter(
        status=CustomerMessage.Status.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")


def send_due(*, now: datetime, limit: int) -> tuple[int, int]:
    """Send the due messages, each locked, sent and marked in a transaction of its own (as staff
    e-mail is); a failure counts an attempt and backs off, the last attempt makes the message dead."""
    from processes.outbox import retry_delay

    if not _due(now).exists():
        return 0, 0
    templates = _Templates()
    gateway = None
    sent = failed = 0
    for _attempt in range(limit):
        with transaction.atomic():
            message = (
                _due(now)
                .select_for_update(skip_locked=True, no_key=True, of=("self",))
                .select_related("entry", "case__process")
                .first()
            )
            if message is None:
                break
            case = message.case
            try:
                message.body = render(message, case, templates)[1]
                if message.channel == CustomerMessage.Channel.SMS:
                    gateway = gateway or sms.gateway()
                    gateway.send(phone=case.customer_phone, text=message.body, message_id=message.dedup_key)
                else:
                    subject, body = render(message, case, templates)
                    EmailMessage(
                        subject=subject,
                        body=body,
                        from_email=settings.DEFAULT_FROM_EMAIL,
                        to=[case.customer_email],
                        connection=get_connection(fail_silently=False),
                    ).send()
            except Exception as exc:
                message.attempts += 1
                message.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
                if message.attempts >= settings.BATON_CUSTOMER_MESSAGE_MAX_ATTEMPTS:
                    message.status = CustomerMessage.Status.DEAD
                    log.error("customer message %s is dead after %s attempts", message.pk, message.attempts)
                else:
                    message.next_attempt_at = now + retry_delay(message.attempts)
                    log.warning("customer message %s failed (attempt %s)", message.pk, message.attempts)
                failed += 1
            else:
                message.status, message.sent_at, message.last_error = CustomerMessage.Status.SENT, now, ""
                message.attempts += 1
                _notified(message, case, now)
                sent += 1
            message.save(
                update_fields=["status", "attempts", "next_attempt_at", "last_error", "sent_at", "body"]
            )
    return sent, failed


def _notified(message: CustomerMessage, case: Case, now: datetime) -> None:
    """The timeline's "customer notified", written when the message has actually left."""
    facts = message.entry.facts if message.entry is not None else {}
    payload = {"channel": message.channel, "about": message.kind, "message": message.pk}
    if facts.get("deadline"):
        payload["deadline"] = facts["deadline"]
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.CUSTOMER_NOTIFIED,
        department_id=case.current_department_id,
        created_at=now,
        payload=payload,
    )


def _address(entries: list[OutboxEntry]) -> notifications.Addressed:
    return {}  # no staff recipients: `materialise` makes the customer's own message


_HANDLER = notifications.KindHandler(
    address=_address, prepare=lambda entries: None, render=lambda *args: ("", "", ""), materialise=materialise
)
for _kind in Kind.values:
    notifications.register(PREFIX + _kind, _HANDLER)
