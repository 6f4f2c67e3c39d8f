"""A timeline event as one readable line, in the reader's language (the case page and the timeline)."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from core.text import localized_name
from processes.clock import format_business_seconds
from processes.models import (
    EVENT_KINDS,
    Case,
    CaseEvent,
    Handoff,
    PauseSegment,
    Priority,
    handoff_note_text,
)


# -- readable timeline lines ----------------------------------------------------------------------
def _when(value: str | None) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(moment) else value


def _day(value: str | None) -> str:
    if not value:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return value


def _verdict(within: bool | None) -> str:
    if within is None:
        return ""
    return _("within target") if within else _("late")


def _choice(choices, value) -> str:
    return str(dict(choices).get(value, value or ""))


def _clock_label(clock: str | None) -> str:
    return str(_("resolution")) if clock == "resolution" else str(_("response"))


def _created(event, p, handoff):
    return _("Opened via %(channel)s, priority %(priority)s.") % {
        "channel": _choice(Case.Channel.choices, p.get("channel")),
        "priority": _choice(Priority.choices, p.get("priority")),
    }


def _requested(event, p, handoff):
    if handoff is not None:
        target = localized_name(handoff.to_department)
        if handoff.to_stage is not None:
            target = f"{target} · {localized_name(handoff.to_stage)}"
    else:
        target = " · ".join(x for x in (p.get("to_department"), p.get("to_stage")) if x)
    text = _("To %(target)s; response due %(due)s.") % {
        "target": target,
        "due": _when(p.get("response_due_at")),
    }
    note = handoff_note_text(p.get("note"))
    return f"{text} {note}" if note else text


def _took(event, p, handoff):
    return _("After %(time)s of business time (%(verdict)s).") % {
        "time": format_business_seconds(p.get("business_seconds")),
        "verdict": _verdict(p.get("within_target")),
    }


def _returned(event, p, handoff):
    target = localized_name(handoff.from_department) if handoff is not None else p.get("to_department")
    return _("Returned to %(department)s: %(reason)s") % {
        "department": target or "",
        "reason": p.get("reason", ""),
    }


def _claimed(event, p, handoff):
    if p.get("assigned_to"):
        return _("Assigned by the lead to %(user)s.") % {"user": p["assigned_to"]}
    return _("Taken on personally: the handoff is theirs to finish.")


def _paused(event, p, handoff):
    text = _choice(PauseSegment.Cause.choices, p.get("cause"))
    return f"{text}: {p['note']}" if p.get("note") else text


def _resumed(event, p, handoff):
    return _("Paused for %(time)s of business time; resolution now due %(due)s.") % {
        "time": format_business_seconds(p.get("paused_business_seconds")),
        "due": _when(p.get("resolution_due_at")),
    }


def _department_of(event, p, handoff) -> str:
    if handoff is not None:
        return localized_name(handoff.to_department)
    return localized_name(event.department) if event.department_id else p.get("to_department", "")


def _due_soon(event, p, handoff):
    if p.get("clock") == "resolution":
        return _("Most of the resolution time is used: %(department)s should finish soon.") % {
            "department": _department_of(event, p, handoff)
        }
    return _("Most of the response time is used: %(department)s should accept soon.") % {
        "department": _department_of(event, p, handoff)
    }


def _breached(event, p, handoff):
    if p.get("clock") == "resolution":
        return _("The resolution target was missed: %(department)s did not finish in time.") % {
            "department": _department_of(event, p, handoff)
        }
    return _("The response target was missed: %(department)s did not accept in time.") % {
        "department": _department_of(event, p, handoff)
    }


def _escalated(event, p, handoff):
    if p.get("level") == 2:
        return _("Escalated to level 2: the parent department's leads and the quality office are told.")
    return _("Escalated to level 1: the leads of %(department)s are told.") % {
        "department": _department_of(event, p, handoff)
    }


def _comment(event, p, handoff):
    return p.get("text", "")


def _resolved(event, p, handoff):
    parts = [_choice(Case.Recovery.choices, p.get("recovery_measure"))]
    if p.get("compensation_amount"):
        parts.append(_("amount %(amount)s") % {"amount": p["compensation_amount"]})
    parts.append(p.get("resolution", ""))
    return " · ".join(x for x in parts if x)


def _compensation(event, p, handoff):
    text = _("amount %(amount)s") % {"amount": p.get("amount", "")}
    return f"{text} · {p['note']}" if p.get("note") else text


def _closed(event, p, handoff):
    return _("closed automatically") if p.get("automatic") else _("Closed after the call-back.")


def _reason(event, p, handoff):
    return p.get("reason", "")


def _extended(event, p, handoff):
    return _("%(previous)s → %(deadline)s (+%(days)s days): %(reason)s") % {
        "previous": _day(p.get("previous")),
        "deadline": _day(p.get("deadline")),
        "days": p.get("days", ""),
        "reason": p.get("reason", ""),
    }


def _customer_told(event, p, handoff):
    from processes.models import CustomerMessage

    channels = [*Case.Channel.choices, *CustomerMessage.Channel.choices]
    return _("Customer told via %(channel)s.") % {"channel": _choice(channels, p.get("channel"))}


def _feedback(event, p, handoff):
    parts = []
    if p.get("csat") is not None:
        parts.append(_("satisfaction %(csat)s of 5") % {"csat": p["csat"]})
    if p.get("nps") is not None:
        parts.append(_("would recommend %(nps)s of 10") % {"nps": p["nps"]})
    if not parts:
        return _("The customer answered the survey.")
    return _("The customer answered the survey: %(answers)s.") % {
        "answers": " · ".join(str(x) for x in parts)
    }


def _attachment(event, p, handoff):
    return _("File added: %(name)s (%(size)s bytes).") % {
        "name": p.get("name", ""),
        "size": p.get("size", ""),
    }


def _linked(event, p, handoff):
    sentences = {
        ("duplicate_of", True): _("Case %(other)s was closed into this case as its duplicate."),
        ("child_of", True): _("Case %(other)s was linked as a child of this case."),
        ("child_of", False): _("Linked as a child of case %(other)s."),
    }
    sentence = sentences.get((p.get("link"), bool(p.get("inbound"))), _("Linked to case %(other)s."))
    return sentence % {"other": p.get("other", "")}


def _closed_as_duplicate(event, p, handoff):
    return _("Closed as a duplicate of case %(primary)s.") % {"primary": p.get("primary", "")}


_Kind = CaseEvent.Kind
# One sentence per kind of event, from its payload (a kind registered elsewhere brings its own:
# `EVENT_KINDS.add(..., sentence=...)`). tests/processes_admin/test_timeline_sentences.py fails when a
# kind has none and its raw payload would show instead.
EVENT_SENTENCES = {
    _Kind.CREATED: _created,
    _Kind.HANDOFF_REQUESTED: _requested,
    _Kind.HANDOFF_ACCEPTED: _took,
    _Kind.HANDOFF_COMPLETED: _took,
    _Kind.HANDOFF_RETURNED: _returned,
    _Kind.HANDOFF_CLAIMED: _claimed,
    _Kind.HANDOFF_CANCELLED: _reason,
    _Kind.PAUSED: _paused,
    _Kind.RESUMED: _resumed,
    _Kind.COMMENT: _comment,
    _Kind.DUE_SOON: _due_soon,
    _Kind.BREACHED: _breached,
    _Kind.ESCALATED: _escalated,
    _Kind.COMPENSATION_REQUESTED: _compensation,
    _Kind.COMPENSATION_APPROVED: _compensation,
    _Kind.COMPENSATION_REJECTED: _compensation,
    _Kind.RESOLVED: _resolved,
    _Kind.CLOSED: _closed,
    _Kind.REOPENED: _reason,
    _Kind.CANCELLED: _reason,
    _Kind.DEADLINE_EXTENDED: _extended,
    _Kind.CUSTOMER_NOTIFIED: _customer_told,
    _Kind.FEEDBACK_RECEIVED: _feedback,
    _Kind.ATTACHMENT_ADDED: _attachment,
    _Kind.LINKED: _linked,
    _Kind.CLOSED_AS_DUPLICATE: _closed_as_duplicate,
}


def raw_payload_text(payload: dict) -> str:
    return "; ".join(f"{key}: {value}" for key, value in payload.items() if value not in (None, ""))


def event_summary(event: CaseEvent, handoff: Handoff | None = None) -> str:
    """One line saying what an event recorded, from its payload (the handoff when it has one)."""
    p = event.payload or {}
    sentence = EVENT_SENTENCES.get(event.kind) or EVENT_KINDS.detail(event.kind, "sentence")
    if sentence is None:  # a kind added without its sentence: better its facts than nothing
        return raw_payload_text(p)
    return str(sentence(event, p, handoff))
