"""The e-mails: rendered in the recipient's language, customer data masked, links into the admin."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.core import mail
from django.urls import resolve

from departments.models import UserSettings
from processes import services
from processes.models import Case, Notification
from processes.outbox import deliver_due
from processes.sla import sla_sweep
from tests.support import addressed

from .conftest import (
    CUSTOMER_NAME,
    CUSTOMER_NAME_MASKED,
    CUSTOMER_PHONE,
    CUSTOMER_PHONE_MASKED,
    T0,
    minutes,
    open_handoff,
)

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
SITE_URL = "https://baton.bank.example"
# The fixture's last step: the handoff returned to the call center.
LAST = T0 + minutes(60)


@pytest.fixture
def every_kind(settings, open_case, user):
    """One case that produced every kind of handoff e-mail the engine sends, to recipients who read
    English (the call center lead), Chinese by choice (the agent) and Chinese by default (the
    quality officer, who has no settings row)."""
    settings.SITE_URL = SITE_URL
    settings.BATON_LEVEL2_AFTER_MINUTES = 30
    UserSettings.objects.create(user=user("call_center_lead"), language="en")
    UserSettings.objects.create(user=user("call_center_agent"), language="zh-hans")
    UserSettings.objects.create(user=user("card_center_lead"), language="en")
    case = open_case(at=T0)
    sla_sweep(now=T0 + minutes(12))  # due soon
    sla_sweep(now=T0 + minutes(16))  # breached, escalated to level 1
    sla_sweep(now=T0 + minutes(46))  # level 2: the quality office
    agent = user("call_center_agent")
    services.handoff_accept(handoff=open_handoff(case), actor=agent, at=T0 + minutes(50))
    services.case_forward(case=case, to_stage="INVESTIGATE_CARD", actor=agent, at=T0 + minutes(55))
    services.handoff_return(
        handoff=open_handoff(case), actor=user("card_center_agent"), reason="个贷产品", at=LAST
    )
    return case


def _delivered():
    """Every message, once delivery has run at the fixture's last step: sent, with its words."""
    deliver_due(now=LAST)
    rows = Notification.objects.all()
    assert rows.exists()
    assert set(rows.values_list("status", flat=True)) == {Notification.Status.SENT}
    return rows


def _admin_link(case: Case) -> str:
    return f"{SITE_URL}/admin/processes/case/{case.pk}/change/"


def test_every_kind_was_produced(every_kind):
    kinds = set(addressed(LAST).values_list("kind", flat=True))
    assert kinds == {Kind.HANDOFF_ARRIVED, Kind.DUE_SOON, Kind.BREACHED, Kind.ESCALATED, Kind.RETURNED}


def test_notifications_are_in_the_recipients_language(every_kind):
    expected = {
        "call_center_lead": "en",
        "card_center_lead": "en",
        "call_center_agent": "zh-hans",
        "card_center_agent": "zh-hans",
        "quality_officer": "zh-hans",  # no settings row: the site's default
    }
    rows = list(_delivered().select_related("user"))
    assert {row.user.username for row in rows} == set(expected)
    for row in rows:
        assert row.language == expected[row.user.username], row.dedup_key
        language = getattr(getattr(row.user, "baton_settings", None), "language", "zh-hans")
        assert row.language == language
        assert f'<html lang="{row.language}">' in row.body_html


def test_customer_data_is_masked_in_every_rendered_email(every_kind):
    for row in _delivered():
        for part in (row.subject, row.body_text, row.body_html):
            assert CUSTOMER_NAME not in part, row.dedup_key
            assert CUSTOMER_PHONE not in part, row.dedup_key
        for part in (row.body_text, row.body_html):
            assert CUSTOMER_NAME_MASKED in part, row.dedup_key
            assert CUSTOMER_PHONE_MASKED in part, row.dedup_key


def test_subjects_carry_the_case_reference(every_kind):
    case = every_kind
    for row in _delivered():
        assert row.subject.startswith(f"[{case.reference}] "), row.subject
        assert row.case_id == case.pk


def test_links_open_the_case_in_the_admin(every_kind):
    case = every_kind
    link = _admin_link(case)
    for row in _delivered():
        assert link in row.body_text, row.dedup_key
        assert f'href="{link}"' in row.body_html, row.dedup_key

    match = resolve(urlparse(link).path)
    assert (match.namespace, match.url_name) == ("admin", "processes_case_change")
    assert match.kwargs == {"object_id": str(case.pk)}
    assert match.func.model_admin.model is Case


def test_the_delivered_messages_are_what_was_rendered(every_kind):
    keys = set(addressed(LAST).values_list("dedup_key", flat=True))

    sent, failed = deliver_due(now=LAST)

    # What each message was rendered to is stored on its row as it is sent
    rows = {row.dedup_key: row for row in Notification.objects.all()}
    assert set(rows) == keys
    assert (sent, failed) == (len(rows), 0)
    assert sorted(m.extra_headers["X-Baton-Notification"] for m in mail.outbox) == sorted(keys)
    for message in mail.outbox:
        row = rows[message.extra_headers["X-Baton-Notification"]]
        assert (message.subject, message.body, message.to) == (row.subject, row.body_text, [row.recipient])
        assert message.alternatives == [(row.body_html, "text/html")]
        for part in message.message().walk():
            if not part.is_multipart():
                decoded = part.get_payload(decode=True).decode(part.get_content_charset())
                assert CUSTOMER_NAME_MASKED in decoded
                assert CUSTOMER_NAME not in decoded and CUSTOMER_PHONE not in decoded
