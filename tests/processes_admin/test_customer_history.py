"""The customer in the admin: at intake the agent finds the caller's cases by phone before opening a
new one; the case page lists the customer's other cases (open first, in the viewer's scope); the case
list's search takes a full phone; the queue flags repeat complaints."""

from __future__ import annotations

from django.urls import reverse

from departments.models import AuditEntry
from processes.models import Case

from .conftest import case_url

PHONE = "13812345678"
OPEN_URL = reverse("admin:processes_case_add")


def _history(html: str) -> str:
    start = html.find('id="customer-history"')
    assert start != -1, "no history section"
    return html[start : html.find("</section>", start)]


def test_at_intake_the_phone_finds_the_callers_cases_without_opening_one(cases, login):
    older = cases.closed()
    current = cases.open()
    cases.open(phone="13900001111")
    before = Case.objects.count()

    response = login("call_center_agent").post(
        OPEN_URL, {"customer_phone": "138 1234 5678", "_lookup": "1", "title": "", "channel": ""}
    )

    assert response.status_code == 200
    assert Case.objects.count() == before
    history = _history(response.content.decode())
    # Open ones first.
    assert history.index(current.reference) < history.index(older.reference)
    assert "13900001111" not in history
    assert AuditEntry.objects.filter(kind=AuditEntry.Kind.CUSTOMER_LOOKUP, detail__via="intake").count() == 1


def test_at_intake_a_malformed_phone_is_the_fields_error(cases, login):
    response = login("call_center_agent").post(OPEN_URL, {"customer_phone": "call me", "_lookup": "1"})

    assert response.status_code == 200
    assert "digits" in response.content.decode()
    assert 'id="customer-history"' not in response.content.decode()


def test_the_case_page_lists_the_customers_other_cases_in_the_viewers_scope(cases, login):
    first = cases.at_card_center(accepted=True)  # went through the card center
    second = cases.open()  # only at the call center
    third = cases.open()

    call_center = _history(login("call_center_agent").get(case_url(third)).content.decode())
    assert first.reference in call_center and second.reference in call_center
    assert third.reference not in call_center
    assert "repeat complaint" in call_center or "重复投诉" in call_center

    card_center = _history(login("card_center_agent").get(case_url(first)).content.decode())
    assert second.reference not in card_center and third.reference not in card_center


def test_the_case_list_search_takes_a_full_phone(cases, login):
    mine = cases.open()
    other = cases.open(phone="13900001111")

    page = login("call_center_agent").get(
        reverse("admin:processes_case_changelist"), {"q": "+86 13812345678"}
    )

    html = page.content.decode()
    assert mine.reference in html and other.reference not in html


def test_the_queue_flags_a_repeat_complaint(cases, login):
    cases.open()
    repeat = cases.open()

    html = login("call_center_agent").get(reverse("admin:processes_handoff_changelist")).content.decode()

    row = html[html.find(repeat.reference) :][:600]
    assert "repeat-flag" in row
