"""Messages to the customer: written as outbox entries by the state change, made and sent at delivery
on the case's channel, the "customer notified" event written only once a message has left."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from processes import services
from processes.customers import messages as customer_messages
from processes.models import CaseEvent, ConsoleSms, CustomerMessage, CustomerMessageTemplate
from processes.outbox import deliver_due

PHONE = "13812345678"
Kind = CaseEvent.Kind


def _notified(case) -> list[dict]:
    return list(
        CaseEvent.objects.filter(case=case, kind=Kind.CUSTOMER_NOTIFIED)
        .order_by("pk")
        .values_list("payload", flat=True)
    )


def test_the_intake_message_goes_by_sms_to_the_console_outbox_with_the_number_masked(story, caplog):
    caplog.set_level(logging.DEBUG)
    case = story.open(customer_phone=PHONE)
    assert _notified(case) == []  # nothing has left yet

    deliver_due(now=story.tick())

    sms = ConsoleSms.objects.get()
    assert sms.to_masked == "138****5678"
    assert case.reference in sms.body
    message = CustomerMessage.objects.get(case=case)
    assert (message.kind, message.channel, message.status) == ("intake", "sms", "sent")
    assert _notified(case) == [{"channel": "sms", "about": "intake", "message": message.pk}]
    assert PHONE not in caplog.text
    assert "138****5678" in caplog.text


def test_extending_a_deadline_sends_exactly_one_message_and_the_event_names_the_channel(
    story, card_center_lead
):
    case = story.at_card_center(customer_phone=PHONE)
    deliver_due(now=story.tick())  # the intake message
    ConsoleSms.objects.all().delete()

    services.case_extend_deadline(
        case=case,
        actor=card_center_lead,
        reason="商户在境外",
        reason_category=customer_messages.ExtensionReason.THIRD_PARTY,
        at=story.tick(),
    )
    assert [p["about"] for p in _notified(case)] == ["intake"]  # the extension's not before delivery
    deliver_due(now=story.tick())
    deliver_due(now=story.tick(60 * 24))  # a later run sends nothing again

    sms = ConsoleSms.objects.get()
    assert "2026-07-01" in sms.body
    assert "等待其他机构" in sms.body or "another institution" in sms.body
    extension = [p for p in _notified(case) if p["about"] == "extension"]
    assert len(extension) == 1
    assert extension[0]["channel"] == "sms"
    assert extension[0]["deadline"] == "2026-07-01"


def test_without_a_phone_the_message_goes_by_e_mail(story, card_center_lead):
    case = story.at_card_center(customer_email="zhang@example.cn")
    deliver_due(now=story.tick())
    mail.outbox.clear()

    services.case_extend_deadline(case=case, actor=card_center_lead, reason="复杂", at=story.tick())
    deliver_due(now=story.tick())

    assert [m.to for m in mail.outbox] == [["zhang@example.cn"]]
    assert [p["channel"] for p in _notified(case) if p["about"] == "extension"] == ["email"]


def test_a_customer_without_phone_or_e_mail_gets_nothing_and_nobody_pretends_otherwise(
    story, card_center_lead
):
    case = story.at_card_center()
    services.case_extend_deadline(case=case, actor=card_center_lead, reason="复杂", at=story.tick())
    deliver_due(now=story.tick())

    assert not CustomerMessage.objects.exists()
    assert _notified(case) == []


def test_a_person_records_that_they_told_the_customer_with_the_channel(story, card_center_agent):
    case = story.at_card_center()

    customer_messages.case_record_customer_notified(
        case=case, actor=card_center_agent, channel="phone", about="extension", at=story.tick()
    )

    assert _notified(case) == [{"channel": "phone", "about": "extension", "by_person": True, "note": ""}]


def test_the_quality_offices_template_is_used_in_the_customers_language(story):
    CustomerMessageTemplate.objects.create(
        kind="intake", language="zh-hans", body="已受理：{reference}。{unknown}"
    )
    case = story.open(customer_phone=PHONE)

    deliver_due(now=story.tick())

    assert ConsoleSms.objects.get().body == f"已受理：{case.reference}。{{unknown}}"


def test_resolution_now_and_the_survey_a_day_later_with_a_reply_code_for_the_feedback_intake(
    story, quality_officer
):
    case = story.at_card_center(customer_phone=PHONE)
    story.resolve(case)
    deliver_due(now=story.tick())
    assert sorted(CustomerMessage.objects.filter(case=case).values_list("kind", flat=True)) == [
        "intake",
        "resolution",
    ]

    deliver_due(now=story.tick(60 * 25))

    survey = CustomerMessage.objects.get(case=case, kind="survey")
    code = customer_messages.reply_code(case.pk)
    assert code in survey.body and f"case={case.reference}" in survey.body
    # The reply code is the survey id under which the answer is recorded.
    from evaluations.services import feedback_record

    feedback, created = feedback_record(case=case, actor=quality_officer, survey_id=code, csat=5)
    assert created and feedback.survey_id == code


def test_a_case_reopened_before_the_survey_is_not_surveyed(story):
    case = story.at_card_center(customer_phone=PHONE)
    story.resolve(case)
    services.case_reopen(
        case=case, actor=story.user("call_center_agent"), reason="客户不满意", at=story.tick()
    )

    deliver_due(now=story.tick(60 * 25))

    assert not CustomerMessage.objects.filter(case=case, kind="survey").exists()


# -- the HTTP gateway, played by a real server -------------------------------------------------------
class _Gateway:
    def __init__(self) -> None:
        self.up = False
        self.received: list[bytes] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not gateway.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                gateway.received.append(body)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def gateway(settings):
    g = _Gateway()
    settings.BATON_SMS_GATEWAY = "http"
    settings.BATON_SMS_HTTP_URL = g.url
    settings.BATON_SMS_HTTP_TOKEN = "t0ken"
    yield g
    g.server.shutdown()
    g.server.server_close()


def test_with_the_gateway_down_the_message_waits_and_is_sent_once_when_it_returns(
    story, gateway, card_center_lead
):
    case = story.at_card_center(customer_phone=PHONE)
    at = story.tick()

    deliver_due(now=at)  # the gateway answers 503
    message = CustomerMessage.objects.get(case=case)
    assert (message.status, message.attempts) == ("pending", 1)
    assert "503" in message.last_error and PHONE not in message.last_error
    assert _notified(case) == []

    gateway.up = True
    deliver_due(now=at + timedelta(seconds=30))  # not yet due again
    assert gateway.received == []
    deliver_due(now=at + timedelta(minutes=2))
    deliver_due(now=at + timedelta(hours=1))

    assert len(gateway.received) == 1
    assert PHONE.encode() in gateway.received[0] and case.reference.encode() in gateway.received[0]
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert [p["channel"] for p in _notified(case)] == ["sms"]


def test_a_gateway_that_never_returns_makes_the_message_dead(story, gateway, settings):
    settings.BATON_CUSTOMER_MESSAGE_MAX_ATTEMPTS = 2
    case = story.open(customer_phone=PHONE)
    at = story.tick()

    deliver_due(now=at)
    deliver_due(now=at + timedelta(hours=1))
    deliver_due(now=at + timedelta(hours=2))

    message = CustomerMessage.objects.get(case=case)
    assert (message.status, message.attempts) == ("dead", 2)
    assert _notified(case) == []
