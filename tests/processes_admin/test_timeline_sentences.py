"""Every kind of timeline event reads as a sentence in the reader's language: none falls back to its
raw payload ("level: 1; clock: response; …"), and no English marker reaches a Chinese page."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from processes.models import CaseEvent, handoff_note_text
from processes.timeline_text import EVENT_SENTENCES, event_summary, raw_payload_text

# A payload of each kind, shaped as the services and the sweep write it.
PAYLOADS = {
    CaseEvent.Kind.CREATED: {"channel": "phone", "priority": "high"},
    CaseEvent.Kind.HANDOFF_REQUESTED: {
        "to_department": "信用卡中心",
        "response_due_at": "2026-06-01T10:00:00+08:00",
        "note": "call-back",
    },
    CaseEvent.Kind.HANDOFF_ACCEPTED: {"business_seconds": 300, "within_target": True},
    CaseEvent.Kind.HANDOFF_COMPLETED: {"business_seconds": 7200, "within_target": False},
    CaseEvent.Kind.HANDOFF_RETURNED: {"to_department": "客服中心", "reason": "材料不全"},
    CaseEvent.Kind.HANDOFF_CLAIMED: {},
    CaseEvent.Kind.HANDOFF_CANCELLED: {"reason": "工单撤销"},
    CaseEvent.Kind.PAUSED: {"cause": "customer", "note": "等待客户补充材料"},
    CaseEvent.Kind.RESUMED: {
        "paused_business_seconds": 3600,
        "resolution_due_at": "2026-06-02T10:00:00+08:00",
    },
    CaseEvent.Kind.COMMENT: {"text": "已联系客户"},
    CaseEvent.Kind.DUE_SOON: {"clock": "response", "to_department": "CALL_CENTER"},
    CaseEvent.Kind.BREACHED: {"clock": "resolution", "to_department": "CARD_CENTER"},
    CaseEvent.Kind.ESCALATED: {"level": 1, "clock": "response", "to_department": "CARD_CENTER"},
    CaseEvent.Kind.COMPENSATION_REQUESTED: {"amount": "800.00"},
    CaseEvent.Kind.COMPENSATION_APPROVED: {"amount": "800.00", "note": "同意"},
    CaseEvent.Kind.COMPENSATION_REJECTED: {"amount": "800.00", "note": "金额过高"},
    CaseEvent.Kind.RESOLVED: {"recovery_measure": "apology", "resolution": "已退费"},
    CaseEvent.Kind.CLOSED: {},
    CaseEvent.Kind.REOPENED: {"reason": "客户仍未收到退款"},
    CaseEvent.Kind.CANCELLED: {"reason": "重复工单"},
    CaseEvent.Kind.DEADLINE_EXTENDED: {
        "previous": "2026-06-15",
        "deadline": "2026-06-30",
        "days": 15,
        "reason": "情况复杂",
    },
    CaseEvent.Kind.CUSTOMER_NOTIFIED: {"channel": "phone"},
    CaseEvent.Kind.FEEDBACK_RECEIVED: {
        "feedback": 1,
        "survey_id": "S-1",
        "csat": 4,
        "nps": 9,
        "channel": "sms",
        "source": "survey",
    },
    CaseEvent.Kind.ATTACHMENT_ADDED: {
        "attachment": 1,
        "name": "对账单",
        "size": 2048,
        "content_type": "application/pdf",
        "sha256": "0" * 64,
        "scan": "not_scanned",
    },
    CaseEvent.Kind.LINKED: {"link": "duplicate_of", "other": "CP-202606-000002", "inbound": True},
    CaseEvent.Kind.CLOSED_AS_DUPLICATE: {"primary": "CP-202606-000001"},
}
# An English word of three letters or more: a Chinese sentence has none but names and codes.
ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")


def test_every_kind_has_a_sentence():
    assert set(EVENT_SENTENCES) == set(CaseEvent.Kind.values)
    assert set(PAYLOADS) == set(CaseEvent.Kind.values)


@pytest.mark.parametrize("kind", CaseEvent.Kind.values)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_no_kind_falls_back_to_its_raw_payload(kind, language):
    event = CaseEvent(kind=kind, payload=PAYLOADS[kind])

    with translation.override(language):
        text = event_summary(event)

    raw = raw_payload_text(PAYLOADS[kind])
    assert not raw or text != raw
    assert not re.search(r"\b(level|clock|to_department|csat|nps|survey_id|channel|source): ", text), text
    if language == "zh-hans":
        assert not ENGLISH_WORD.search(text.replace("CARD_CENTER", "").replace("CALL_CENTER", "")), text


def test_the_call_back_marker_of_old_handoffs_is_said_in_the_readers_language():
    with translation.override("zh-hans"):
        assert "call-back" not in handoff_note_text("call-back")
        assert handoff_note_text("请核实") == "请核实"
        assert handoff_note_text("compensation 800.00") == "待审批的补偿金额 800.00"


def test_every_kind_registered_elsewhere_brings_its_sentence():
    from processes.models import EVENT_KINDS

    missing = [
        k for k in EVENT_KINDS.values if k not in EVENT_SENTENCES and not EVENT_KINDS.detail(k, "sentence")
    ]
    assert not missing, f"event kinds without a timeline sentence: {missing}"
